import { describe, expect, it } from 'vitest';
import { extraQuery, findEndpointEvent, podEndpoint, proxyEndpoint, splitSessionParam, withEndpoint } from './sse-endpoint.ts';

describe('the legacy transport\'s endpoint event', () => {
  it('is found only once complete, after other events, with CRLF lines, comments and data split over lines', () => {
    expect(findEndpointEvent('event: endpoint\ndata: /message?sessionId=a')).toBeNull();
    const whole = 'event: endpoint\ndata: /message?sessionId=a\n\n';
    expect(findEndpointEvent(whole)).toEqual({ start: 0, end: whole.length, data: '/message?sessionId=a' });
    const text = ': hello\r\n\r\nevent: message\r\ndata: {}\r\n\r\nevent:endpoint\r\ndata:/messages/\r\ndata:?x\r\n\r\nevent: message\r\n';
    const found = findEndpointEvent(text)!;
    expect(found.data).toBe('/messages/\n?x');
    expect(text.slice(found.start, found.end)).toBe('event:endpoint\r\ndata:/messages/\r\ndata:?x\r\n\r\n');
    expect(findEndpointEvent('data: /message\n\n'), 'an unnamed event is a message').toBeNull();
  });

  it('is replaced whole, what surrounds it kept byte for byte', () => {
    const text = 'retry: 100\n\nevent: endpoint\nid: 7\ndata: /message?sessionId=pod-id\n\nevent: message\ndata: {"a":1}\n\n';
    const found = findEndpointEvent(text)!;
    expect(withEndpoint(text, found, '/mcp?sessionId=minted')).toBe('retry: 100\n\nevent: endpoint\ndata: /mcp?sessionId=minted\n\nevent: message\ndata: {"a":1}\n\n');
  });

  it('names the pod the stream reached, whatever host the pod calls itself, with its session parameter as the backend session', () => {
    expect(podEndpoint('/message?sessionId=abc', '127.0.0.1:3001', '/sse')).toEqual({ target: 'http://127.0.0.1:3001/message?sessionId=abc', backendSessionId: 'abc' });
    expect(podEndpoint('messages/?session_id=f00', '10.0.0.5:8000', '/mcp/sse')).toEqual({ target: 'http://10.0.0.5:8000/mcp/messages/?session_id=f00', backendSessionId: 'f00' });
    expect(podEndpoint('http://pod-7.internal:9/rpc?tenant=a&sid=1', '[::1]:3001', '/sse')).toEqual({ target: 'http://[::1]:3001/rpc?tenant=a&sid=1', backendSessionId: '/rpc?tenant=a&sid=1' });
    expect(podEndpoint('mailto:x@y', '127.0.0.1:1', '/sse')).toBeNull();
  });

  it('the client\'s endpoint carries the minted id; its POST\'s other parameters go along to the pod', () => {
    expect(proxyEndpoint('/mcp', 'AbC_-123')).toBe('/mcp?sessionId=AbC_-123');
    expect(splitSessionParam('?tenant=a&sessionId=xyz')).toEqual({ sessionId: 'xyz', rest: 'tenant=a' });
    expect(splitSessionParam('')).toEqual({ sessionId: null, rest: '' });
    expect(extraQuery('http://p:1/message?sessionId=abc', 'tenant=a')).toBe('&tenant=a');
    expect(extraQuery('http://p:1/message', 'tenant=a')).toBe('?tenant=a');
    expect(extraQuery('http://p:1/message?sessionId=abc', '')).toBe('');
  });
});
