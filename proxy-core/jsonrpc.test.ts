import { describe, expect, it } from 'vitest';
import { classifyBody, errorBody, requestIdOf, sessionLostSignal } from './jsonrpc.ts';

describe('classifyBody', () => {
  it('finds initialize alone or in a batch, and leaves other bodies unparsed', () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } };
    expect(classifyBody(Buffer.from(JSON.stringify(init)))).toEqual({ kind: 'initialize', protocolVersion: '2025-06-18' });
    expect(classifyBody(Buffer.from(JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/x' }, init])))).toMatchObject({ kind: 'initialize' });
    expect(classifyBody(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'))).toEqual({ kind: 'other' });
    expect(classifyBody(Buffer.from('{broken'))).toEqual({ kind: 'other' });
    expect(classifyBody(Buffer.from('{"method":"initialize"'))).toMatchObject({ kind: 'malformed' });
    // A tool argument that merely says "initialize" is parsed, and is not an initialize.
    expect(classifyBody(Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{"x":"initialize"}}}'))).toEqual({ kind: 'other' });
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
    expect(sessionLostSignal(500, 'event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32001,"message":"x"},"id":1}\n\n')).toBe('session-lost-32001');
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
});
