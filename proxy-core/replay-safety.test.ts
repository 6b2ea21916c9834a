import { describe, expect, it } from 'vitest';
import { MessageTap, replaySafe, rpcMethodOf, ToolHints } from './replay-safety.ts';

const call = (method: string, params?: Record<string, unknown>) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
const toolsList = {
  jsonrpc: '2.0', id: 1,
  result: {
    tools: [
      { name: 'look', annotations: { readOnlyHint: true } },
      { name: 'put', annotations: { idempotentHint: true } },
      { name: 'charge', annotations: { readOnlyHint: false, destructiveHint: true } },
      { name: 'plain' },
    ],
  },
};

describe('replay safety', () => {
  it('replays reads, and tools/call only for tools a tools/list from that pod annotated read-only or idempotent', () => {
    const hints = new ToolHints();
    hints.learn('10.0.0.1:80', [toolsList]);
    const safe = (body: Buffer | null, pod = '10.0.0.1:80', method = 'POST') => replaySafe('safe', method, body, pod, hints);
    for (const read of ['ping', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'resources/read', 'prompts/get', 'completion/complete']) {
      expect(safe(call(read)), read).toBe(true);
    }
    expect(safe(call('tools/call', { name: 'look' }))).toBe(true);
    expect(safe(call('tools/call', { name: 'put' }))).toBe(true);
    expect(safe(call('tools/call', { name: 'charge' }))).toBe(false);
    expect(safe(call('tools/call', { name: 'plain' }))).toBe(false);
    expect(safe(call('tools/call', { name: 'look' }), '10.0.0.2:80'), 'hints are per pod').toBe(false);
    expect(safe(Buffer.from('{"jsonrpc":"2.0","method":"notifications/cancelled"}')), 'a notification').toBe(false);
    expect(safe(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}')), 'the handshake\'s last step').toBe(true);
    expect(safe(Buffer.from(JSON.stringify([JSON.parse(call('ping').toString()), JSON.parse(call('tools/call', { name: 'charge' }).toString())]))), 'a batch with one unsafe call').toBe(false);
    expect(safe(Buffer.from('{not json'))).toBe(false);
    expect(safe(null, '10.0.0.1:80', 'GET'), 'a GET only opens a stream').toBe(true);
    expect(replaySafe('all', 'POST', call('tools/call', { name: 'charge' }), 'x', hints)).toBe(true);
    expect(replaySafe('none', 'POST', call('ping'), 'x', hints)).toBe(false);
  });

  it('names the call for events', () => {
    expect(rpcMethodOf(call('tools/call', { name: 'counter' }))).toBe('tools/call counter');
    expect(rpcMethodOf(call('resources/read'))).toBe('resources/read');
    expect(rpcMethodOf(Buffer.from('[{"jsonrpc":"2.0","id":1,"method":"ping"}]'))).toBe('batch');
    expect(rpcMethodOf(null)).toBeNull();
  });
});

describe('MessageTap', () => {
  it('reads a tools/list answer from SSE split anywhere, event by event', () => {
    const seen: Record<string, unknown>[][] = [];
    const tap = new MessageTap((messages) => seen.push(messages));
    const text = `event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })}\r\n\r\nid: 7\nevent: message\ndata: ${JSON.stringify(toolsList)}\n\n`;
    tap.start(200, { 'content-type': 'text/event-stream' });
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) tap.data(bytes.subarray(i, i + 7));
    tap.end();
    expect(seen).toHaveLength(2);
    const hints = new ToolHints();
    for (const messages of seen) hints.learn('p', messages);
    expect(hints.safe('p', 'look')).toBe(true);
    expect(hints.safe('p', 'charge')).toBe(false);
  });

  it('reads a JSON answer whole, and ignores error statuses', () => {
    const seen: unknown[] = [];
    const json = new MessageTap((messages) => seen.push(...messages));
    json.start(200, { 'content-type': 'application/json' });
    json.data(Buffer.from(JSON.stringify(toolsList)));
    json.end();
    expect(seen).toEqual([toolsList]);
    const failed = new MessageTap((messages) => seen.push(...messages));
    failed.start(500, { 'content-type': 'application/json' });
    failed.data(Buffer.from(JSON.stringify(toolsList)));
    failed.end();
    expect(seen).toHaveLength(1);
  });
});
