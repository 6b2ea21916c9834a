import { describe as suite, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { NOT_WAITING, type PodView } from '../state/snapshot.ts';
import { describe, storyEvents, worthALine } from './describe.ts';

const at = 1_700_000_000_000;
const pods: Record<string, PodView> = {
  'pod-2': { name: 'pod-2', state: 'dead', address: '127.0.0.1:4002', reason: 'killed', sessions: 0, requests: 9, modernRequests: 0, unhealthy: {}, waiting: NOT_WAITING },
  'pod-4': { name: 'pod-4', state: 'ready', address: '127.0.0.1:4004', reason: 'started', sessions: 1, requests: 1, modernRequests: 0, unhealthy: {}, waiting: NOT_WAITING },
};
const started: LabEvent = { type: 'recovery.started', at, replicaId: 'replica-1', sessionId: 'ab12cd34ef', fromPod: '127.0.0.1:4002', cause: 'connect-refused', generation: 0 };
const done: LabEvent = {
  type: 'recovery.done', at: at + 11, replicaId: 'replica-1', sessionId: 'ab12cd34ef', fromPod: '127.0.0.1:4002', toPod: '127.0.0.1:4004',
  cause: 'connect-refused', generation: 1, durationMs: 11.24, reused: false,
};
const call = (extra: Partial<Extract<LabEvent, { type: 'traffic.call' }>>): LabEvent => ({
  type: 'traffic.call', at, client: 'client-3', sessionId: null, method: 'tools/call counter', ok: true, latencyMs: 3, status: null, rpcCode: null, error: null, count: 1, stateLost: false, ...extra,
});

suite('one story per event', () => {
  it('tells a recovery on screen as one line, pods named, the id short', () => {
    expect(describe(done, pods)).toEqual({
      kinds: ['recoveries'], tone: 'good',
      text: 'session ab12cd… lost pod-2 (connect refused) → re-initialized on pod-4 in 11 ms via replica-1 → replayed',
    });
  });

  it('tells the same recovery to a bug report in the same words, with the whole id, the addresses and the generation', () => {
    expect(describe(done, 'report').text).toBe(
      'session ab12cd34ef lost 127.0.0.1:4002 (connect refused) → re-initialized on 127.0.0.1:4004 in 11.2 ms (generation 1) via replica-1 → replayed',
    );
    const created: LabEvent = { type: 'session.created', at, replicaId: 'replica-2', sessionId: 's1', backendSessionId: 'b1', pod: '127.0.0.1:4004', pinning: 'pod' };
    expect(describe(created, pods).text).toBe('session s1 created on pod-4 via replica-2 (pinning: pod)');
    expect(describe(created, 'report').text).toBe('session s1 created on 127.0.0.1:4004 via replica-2 (pinning: pod, backend session b1)');
  });

  it('drops the start of a recovery whose end is listed, keeps one still under way', () => {
    const other: LabEvent = { ...started, sessionId: 'zz99' };
    expect(storyEvents([started, other, done])).toEqual([other, done]);
  });

  it('counts a failed call as an error and names an address no pod has by the address', () => {
    const failed = call({ ok: false, status: 404, rpcCode: -32001, error: 'Session not found', count: null });
    expect(describe(failed, pods)).toEqual({ kinds: ['sessions', 'errors'], tone: 'bad', text: 'client-3 saw an error (HTTP 404, JSON-RPC -32001): Session not found' });
    const created: LabEvent = { type: 'session.created', at, replicaId: 'replica-2', sessionId: 's1', backendSessionId: 'b1', pod: '127.0.0.1:9', pinning: 'pod' };
    expect(describe(created, pods).text).toBe('session s1 created on 127.0.0.1:9 via replica-2 (pinning: pod)');
  });

  it('names the service endpoints by their pods on screen, by address in a report', () => {
    const endpoints: LabEvent = { type: 'service.endpoints', at, endpoints: ['http://127.0.0.1:4004/mcp', 'http://127.0.0.1:4009/mcp'] };
    expect(describe(endpoints, pods).text).toBe('service endpoints: pod-4, 127.0.0.1:4009');
    expect(describe(endpoints, 'report').text).toBe('service endpoints: 127.0.0.1:4004, 127.0.0.1:4009');
    expect(describe({ ...endpoints, endpoints: [] }, pods).text).toBe('service endpoints: none');
  });

  it('says in one place which events are not worth a line: requests, the key count, good calls, build output in a report', () => {
    const routed: LabEvent = { type: 'request.routed', at, replicaId: 'replica-1', httpMethod: 'POST', sessionId: 's1', pod: '127.0.0.1:4004', status: 200, durationMs: 1, recovered: false };
    const build: LabEvent = { type: 'image.progress', at, stage: 'build', message: 'Step 1/4' };
    expect(worthALine(routed)).toBe(false);
    expect(worthALine({ type: 'redis.keys', at, keys: 3 })).toBe(false);
    expect(worthALine(call({}))).toBe(false);
    expect(worthALine(call({ stateLost: true }))).toBe(true);
    expect(worthALine(call({ ok: false, error: 'x' }))).toBe(true);
    expect(worthALine(build)).toBe(true);
    expect(worthALine(build, 'report')).toBe(false);
    expect(worthALine({ ...build, stage: 'done' }, 'report')).toBe(true);
    expect(worthALine(done, 'report')).toBe(true);
    // Every event still has a story, for whoever wants one.
    expect(describe(routed, pods).text).toBe('POST s1 via replica-1 → pod-4: 200');
  });

  it('tells a modern request by its method and target, and a session dropped because its pod is gone with recovery off', () => {
    const modern: LabEvent = {
      type: 'request.routed', at, replicaId: 'replica-1', httpMethod: 'POST', sessionId: null, pod: '127.0.0.1:4004', status: 200, durationMs: 1, recovered: false,
      era: 'modern', mcpMethod: 'tools/call', mcpName: 'cart.add',
    };
    expect(describe(modern, pods).text).toBe('POST modern tools/call cart.add via replica-1 → pod-4: 200');
    const dropped: LabEvent = { type: 'session.deleted', at, replicaId: 'replica-2', sessionId: 'ab12cd34ef', pod: '127.0.0.1:4002', podStatus: null, podGone: 'connect-refused' };
    expect(describe(dropped, pods)).toEqual({
      kinds: ['sessions', 'errors'], tone: 'bad',
      text: 'session ab12cd… dropped by replica-2: pod-2 is gone (connect refused) and recovery is off → "session not found", the client must start over',
    });
  });

  it('gives a log line its level where the tone does not show it', () => {
    expect(describe({ type: 'lab.log', at, level: 'warn', message: 'Docker not reachable' }, pods)).toEqual({ kinds: ['lab', 'errors'], tone: 'warn', text: 'warning: Docker not reachable' });
    expect(describe({ type: 'lab.log', at, level: 'info', message: 'calling tools/call echo' }, 'report').text).toBe('calling tools/call echo');
  });

  it('tells a pod that stopped answering its probes, and what it means for its sessions; and its return', () => {
    const health = { type: 'pod.health', at, replicaId: 'replica-2', pod: '127.0.0.1:4004' } as const;
    expect(describe({ ...health, health: 'unhealthy', reason: 'no answer within 1000 ms', failures: 2 }, pods)).toEqual({
      kinds: ['pods'], tone: 'bad',
      text: 'replica-2: pod-4 stopped answering its health probes (2 failed, the last: no answer within 1000 ms) → unhealthy: '
        + 'no new sessions go to it, and its sessions move on their next request',
    });
    expect(describe({ ...health, health: 'unhealthy', reason: 'connect-refused', failures: 2, byRequest: true }, pods).text).toBe(
      'replica-2: pod-4 failed a request\'s fresh connection (connect-refused) → unhealthy: no new sessions go to it, and its sessions move on their next request',
    );
    expect(describe({ ...health, health: 'healthy', reason: 'answered 405', failures: 0 }, 'report')).toEqual({
      kinds: ['pods'], tone: 'good', text: 'replica-2: 127.0.0.1:4004 answers its health probes again (last probe answered 405) → healthy',
    });
  });

  it('tells a call the proxy ended on a hung pod: replayed when safe, else an honest "outcome unknown", listed with the errors', () => {
    const ended = { type: 'inflight.ended', at, replicaId: 'replica-1', sessionId: 'ab12cd34ef', pod: '127.0.0.1:4004', reason: 'pod-unhealthy', ageMs: 2150.4 } as const;
    expect(describe({ ...ended, rpcMethod: 'tools/call counter', outcome: 'unknown-outcome' }, pods)).toEqual({
      kinds: ['sessions', 'errors'], tone: 'warn',
      text: 'tools/call counter of session ab12cd…, 2150 ms under way on pod-4: the pod stopped answering its health probes → '
        + 'not safe to repeat: answered "may or may not have run" (JSON-RPC -32050) (via replica-1)',
    });
    expect(describe({ ...ended, rpcMethod: 'ping', outcome: 'replayed' }, pods)).toMatchObject({
      kinds: ['sessions'], text: expect.stringMatching(/^ping of session ab12cd…, .* → safe to repeat: replayed on the recovered session \(via replica-1\)$/),
    });
    expect(describe({ ...ended, rpcMethod: null, outcome: 'stream-closed' }, pods).text).toMatch(/^a GET stream of session ab12cd…/);
    const unknown = call({ ok: false, rpcCode: -32050, sessionId: 'ab12cd34ef', error: 'MCP error -32050: pod stopped answering; the call may or may not have run', count: null });
    expect(describe(unknown, pods)).toEqual({
      kinds: ['sessions', 'errors'], tone: 'warn',
      text: 'client-3 (session ab12cd…): tools/call counter → outcome unknown, an honest answer (JSON-RPC -32050): MCP error -32050: pod stopped answering; the call may or may not have run',
    });
    expect(worthALine({ type: 'inflight.changed', at, replicaId: 'replica-1', pod: '127.0.0.1:4004', calls: 1, oldestAt: at - 10, sessions: [] })).toBe(false);
  });
});
