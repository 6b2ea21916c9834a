import { describe, expect, it } from 'vitest';
import { classifyBody, errorAnswer, errorBody, requestIdOf, sessionLostSignal } from './jsonrpc.ts';

describe('classifyBody', () => {
  it('finds initialize alone or in a batch, and leaves other bodies on a session unparsed', () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } };
    expect(classifyBody(Buffer.from(JSON.stringify(init)), false)).toEqual({ kind: 'initialize', protocolVersion: '2025-06-18', initializeBody: JSON.stringify(init) });
    expect(classifyBody(Buffer.from(JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/x' }, init])), false)).toMatchObject({ kind: 'initialize' });
    expect(classifyBody(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'), true)).toEqual({ kind: 'other' });
    expect(classifyBody(Buffer.from('{broken'), true)).toEqual({ kind: 'other' });
    expect(classifyBody(Buffer.from('{"method":"initialize"'), true)).toMatchObject({ kind: 'malformed' });
    // A tool argument that merely says "initialize" is parsed, and is not an initialize.
    const call = classifyBody(Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{"x":"initialize"}}}'), true);
    expect(call).toMatchObject({ kind: 'other', parsed: { method: 'tools/call' } });
  });

  it('cannot be fooled by a JSON escape: without a session, the body is parsed', () => {
    const escaped = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"\\u0069nitialize","params":{"protocolVersion":"2025-06-18"}}');
    expect(classifyBody(escaped, false)).toMatchObject({ kind: 'initialize', protocolVersion: '2025-06-18' });
    expect(classifyBody(Buffer.from('{broken'), false), 'sessionless traffic must be JSON').toMatchObject({ kind: 'malformed' });
  });

  it('stores only the initialize message of a batch for replay', () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } };
    const batch = [{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'counter' } }, init];
    const kind = classifyBody(Buffer.from(JSON.stringify(batch)), false);
    expect(kind.kind === 'initialize' && JSON.parse(kind.initializeBody)).toEqual(init);
  });
});

describe('sessionLostSignal', () => {
  it('recognises the ways servers say a session is gone', () => {
    expect(sessionLostSignal(404, 'session not found')).toBe('session-lost-404');
    expect(sessionLostSignal(404, '')).toBe('session-lost-404');
    expect(sessionLostSignal(400, '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}')).toBe('session-lost-400');
    expect(sessionLostSignal(400, '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid session id"},"id":3}')).toBe('session-lost-400');
    expect(sessionLostSignal(200, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":1}')).toBe('session-lost-32001');
    expect(sessionLostSignal(404, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}')).toBe('session-lost-32001');
    expect(sessionLostSignal(400, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"x"},"id":1}')).toBe('session-lost-32001');
    expect(sessionLostSignal(500, 'event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":1}\n\n')).toBe('session-lost-32001');
  });

  it('does not take -32001 alone for a lost session: the SDK also says it for a request that timed out', () => {
    expect(sessionLostSignal(200, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Request timed out"},"id":1}')).toBeNull();
    expect(sessionLostSignal(500, 'event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32001,"message":"Request timed out"},"id":1}\n\n')).toBeNull();
  });

  it('looks at every answer of a batch', () => {
    const batch = [
      { jsonrpc: '2.0', result: {}, id: 1 },
      { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: 2 },
    ];
    expect(sessionLostSignal(200, JSON.stringify(batch))).toBe('session-lost-32001');
    const sse = `event: message\ndata: ${JSON.stringify(batch[0])}\n\nevent: message\ndata: ${JSON.stringify(batch[1])}\n\n`;
    expect(sessionLostSignal(200, sse)).toBe('session-lost-32001');
  });

  it('does not mistake other errors for a lost session', () => {
    expect(sessionLostSignal(400, '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: text is required"},"id":1}')).toBeNull();
    expect(sessionLostSignal(400, 'Bad Request')).toBeNull();
    expect(sessionLostSignal(500, '{"jsonrpc":"2.0","error":{"code":-32603,"message":"boom"},"id":1}')).toBeNull();
    expect(sessionLostSignal(200, '{"jsonrpc":"2.0","result":{},"id":1}')).toBeNull();
    expect(sessionLostSignal(401, '{"error":"unauthorized"}')).toBeNull();
  });
});

describe('error bodies', () => {
  it('echo the request id, and leave the id key out when there is none', () => {
    expect(JSON.parse(errorBody(-32001, 'Session not found', 7))).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: 7 });
    expect(JSON.parse(errorBody(-32001, 'Session not found'))).not.toHaveProperty('id');
    expect(requestIdOf(Buffer.from('{"jsonrpc":"2.0","id":"a","method":"x"}'))).toBe('a');
    expect(requestIdOf(Buffer.from('{"jsonrpc":"2.0","method":"x"}'))).toBeUndefined();
    expect(requestIdOf(Buffer.from('[{"id":1}]'))).toBeUndefined();
    expect(requestIdOf(null)).toBeUndefined();
  });

  it('answer a batch with one error per request, with its id', () => {
    const batch = Buffer.from(JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', method: 'notifications/x' }, { jsonrpc: '2.0', id: 'b', method: 'tools/list' },
    ]));
    expect(JSON.parse(errorAnswer(batch, -32050, 'm'))).toEqual([
      { jsonrpc: '2.0', error: { code: -32050, message: 'm' }, id: 1 },
      { jsonrpc: '2.0', error: { code: -32050, message: 'm' }, id: 'b' },
    ]);
    expect(JSON.parse(errorAnswer(Buffer.from('{"jsonrpc":"2.0","id":3,"method":"ping"}'), -32050, 'm', { pod: 'p' }))).toEqual({
      jsonrpc: '2.0', error: { code: -32050, message: 'm', data: { pod: 'p' } }, id: 3,
    });
  });
});
