import { describe, expect, it } from 'vitest';
import { parseLabConfig } from '../config.ts';
import type { LabEvent } from '../events.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import { buildReport } from './report.ts';

const at = 1_800_000_000_000;
const image: ServerUnderTest = {
  kind: 'image', source: 'image acme/mcp:2', digest: 'sha256:0123abcd', name: 'acme-mcp', version: '2.0.1', protocolVersion: '2025-06-18',
  sessions: false, tools: [{ name: 'add', inputSchema: { type: 'object' } }, { name: 'lookup', inputSchema: { type: 'object' } }], error: null,
};

describe('the bug report', () => {
  it('records the server under test: source, image digest, name and version, protocol, sessions, tools', () => {
    const config = parseLabConfig({ backend: { kind: 'image', image: 'acme/mcp:2', port: 8000 } });
    const events: LabEvent[] = [
      { type: 'server.identified', at, server: image },
      {
        type: 'traffic.call', at: at + 5, client: 'client-1', sessionId: null, method: 'tools/call add', ok: true, latencyMs: 3,
        status: null, rpcCode: null, error: null, count: null, stateLost: false,
      },
    ];
    const { json, markdown } = buildReport({ title: 't', config, runtimeNote: 'docker', versions: {}, events });
    expect(json.server).toEqual(image);
    expect(json.verdict).toMatchObject({ requests: 1, sessionless: 1, clientErrors: 0 });
    const section = markdown.slice(markdown.indexOf('## Server under test'), markdown.indexOf('## Versions'));
    expect(section.split('\n').filter((l) => l.startsWith('- '))).toEqual([
      '- source: image acme/mcp:2',
      '- image digest: sha256:0123abcd',
      '- name: acme-mcp',
      '- version: 2.0.1',
      '- protocol version: 2025-06-18',
      '- sessions: no (stateless)',
      '- tools: 2 (add, lookup)',
    ]);
    expect(markdown).toContain('server under test: acme-mcp 2.0.1 (image acme/mcp:2), protocol 2025-06-18, stateless (no sessions), 2 tool(s)');
    expect(markdown).toContain('- backend: image acme/mcp:2,');
  });

  it('says why when the server could not be identified', () => {
    const config = parseLabConfig({ backend: { kind: 'command', command: 'python', args: ['server.py'] } });
    const server: ServerUnderTest = { ...image, kind: 'command', source: 'command python server.py', digest: null, name: null, version: null, protocolVersion: null, sessions: null, tools: [], error: 'initialize at http://127.0.0.1:1/mcp failed: fetch failed' };
    const { markdown } = buildReport({ title: 't', config, runtimeNote: 'process', versions: {}, events: [{ type: 'server.identified', at, server }] });
    expect(markdown).toContain('server under test: command python server.py: not identified: initialize at http://127.0.0.1:1/mcp failed: fetch failed');
    expect(markdown).toContain('- sessions: unknown');
    expect(markdown).toContain('- could not be read in full: initialize at http://127.0.0.1:1/mcp failed: fetch failed');
    expect(markdown).not.toContain('image digest');
  });

  it('tells its timeline in the words the UI uses, with whole ids and addresses, leaving out good calls and build output', () => {
    const config = parseLabConfig({});
    const session = '9f86d081884c7d659a2feaa0c55ad015';
    const events: LabEvent[] = [
      { type: 'image.progress', at, stage: 'build', message: 'Step 1/4 : FROM node' },
      { type: 'pod.changed', at: at + 1, pod: 'pod-1', state: 'ready', address: '127.0.0.1:4001', reason: 'started' },
      { type: 'session.created', at: at + 2, replicaId: 'replica-1', sessionId: session, backendSessionId: 'b1', pod: '127.0.0.1:4001', pinning: 'pod' },
      {
        type: 'traffic.call', at: at + 3, client: 'client-1', sessionId: session, method: 'tools/call counter', ok: true, latencyMs: 3,
        status: null, rpcCode: null, error: null, count: 1, stateLost: false,
      },
      { type: 'recovery.started', at: at + 4, replicaId: 'replica-2', sessionId: session, fromPod: '127.0.0.1:4001', cause: 'session-lost-404', generation: 0 },
      { type: 'recovery.failed', at: at + 5, replicaId: 'replica-2', sessionId: session, fromPod: '127.0.0.1:4001', cause: 'session-lost-404', reason: 'no pod answered' },
    ];
    const { json, markdown } = buildReport({ title: 't', config, runtimeNote: 'process', versions: {}, events });
    expect(json.timeline.map((e) => e.text)).toEqual([
      'pod-1 ready at 127.0.0.1:4001 (started)',
      `session ${session} created on 127.0.0.1:4001 via replica-1 (pinning: pod, backend session b1)`,
      `session ${session} lost 127.0.0.1:4001 (pod answered 404: session lost) → re-initializing via replica-2…`,
      `session ${session} lost 127.0.0.1:4001 (pod answered 404: session lost) → re-initialization via replica-2 failed: no pod answered`,
    ]);
    expect(json.sessions).toMatchObject([{ sessionId: session, client: 'client-1', steps: json.timeline.slice(1) }]);
    expect(markdown).toContain(`\n  +0.005 s  session ${session} lost 127.0.0.1:4001`);
  });

  it('splits the client errors in its verdict: recoverable ones fail it, honest "outcome unknown" answers are said beside', () => {
    const config = parseLabConfig({});
    const called = (ok: boolean, latencyMs: number, rpcCode: number | null, error: string | null): LabEvent => ({
      type: 'traffic.call', at, client: 'client-1', sessionId: 's1', method: 'tools/call counter', ok, latencyMs, status: null, rpcCode, error, count: null, stateLost: false,
    });
    const unknown = called(false, 2400, -32050, 'MCP error -32050: the call may or may not have run');
    const passed = buildReport({ title: 't', config, runtimeNote: 'process', versions: {}, events: [called(true, 3, null, null), unknown] });
    expect(passed.json.verdict).toMatchObject({ clientErrors: 1, recoverableErrors: 0, unknownOutcome: 1, slowCalls: 0, longestWaitMs: 2400 });
    expect(passed.markdown).toContain('PASS — no recoverable error (1 call in flight answered "outcome unknown").');
    expect(passed.markdown).toMatch(/\| requests \| recoverable errors \| outcome unknown \| .* \| waits > 5 s \| longest wait ms \|.*\n.*\n\| 2 \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 2400 \|/);
    const failed = buildReport({ title: 't', config, runtimeNote: 'process', versions: {}, events: [called(false, 7000, -32001, 'Session not found'), unknown] });
    expect(failed.markdown).toContain('FAIL — 1 recoverable error seen by the clients (1 call in flight answered "outcome unknown").');
    expect(failed.json.verdict).toMatchObject({ recoverableErrors: 1, slowCalls: 1, longestWaitMs: 7000 });
  });

  it('says a pile-up, the handle leaks and the modern calls of its verdict, and warns of a known broken combination', () => {
    const config = parseLabConfig({ pinning: 'service' });
    const created = (i: number, pod: string): LabEvent => ({
      type: 'session.created', at, replicaId: 'replica-1', sessionId: `s${i}`, backendSessionId: `b${i}`, pod, pinning: 'service',
    });
    const events: LabEvent[] = [
      { type: 'service.endpoints', at, endpoints: ['http://127.0.0.1:4001/mcp', 'http://127.0.0.1:4002/mcp'] },
      { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: '127.0.0.1:4001', reason: 'started' },
      ...Array.from({ length: 9 }, (_, i) => created(i, '127.0.0.1:4001')),
      {
        type: 'traffic.call', at, client: 'client-2', sessionId: null, method: 'tools/call cart.add', ok: true, latencyMs: 2, status: null, rpcCode: null,
        error: null, count: null, stateLost: false, era: 'modern',
      },
      { type: 'handle.leak', at, handle: 'c7', mintedOn: 'pod-1', usedOn: 'pod-2', error: 'unknown cart', client: 'client-2', method: 'tools/call cart.add', mintedAt: at },
    ];
    const { json, markdown } = buildReport({ title: 't', config, runtimeNote: 'process', versions: {}, events });
    expect(json.verdict).toMatchObject({ modern: 1, sessionless: 0, handleLeaks: 1, pileUp: { pod: 'pod-1', what: 'sessions', count: 9, of: 9 } });
    expect(markdown).toMatch(/\| sessionless \| modern \| handle leaks \|.*\n.*\n\| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \| 1 \| 1 \|/);
    expect(markdown).toContain('Pile-up: pod-1 holds 9 of 9 sessions (100%) while other pods idle.');
    expect(markdown).toMatch(/Warning: known broken combination — pinning to the service: .*choose pod pinning\./);
  });
});
