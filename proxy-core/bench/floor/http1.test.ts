import { describe, expect, it } from 'vitest';
import { BadMessageError, BodyFraming, parseHead, responseHasBody, statusOf } from './http1.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Feeds `wire` to a fresh framing in pieces of `size` bytes; returns the payload and where the body ended. */
function feedInPieces(head: string, body: string, size: number): { payload: string; end: number } {
  const parsed = parseHead(bytes(head))!;
  const framing = new BodyFraming();
  framing.start(parsed, true, true);
  const wire = bytes(body);
  let payload = '';
  for (let at = 0; at < wire.length; at += size) {
    const piece = wire.subarray(at, at + size);
    const end = framing.feed(piece, 0, (chunk) => (payload += chunk.toString('latin1')));
    if (end >= 0) return { payload, end: at + end };
  }
  return { payload, end: -1 };
}

describe('the floor studies\' HTTP/1.1 reader', () => {
  it('reads a head only once it has ended, and the headers a sticky pass-through needs', () => {
    expect(parseHead(bytes('POST /mcp HTTP/1.1\r\nHost: x\r\n'))).toBeNull();
    const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nMcp-Session-Id: abc\r\nConnection: close\r\nX-Other: y\r\n\r\nbody';
    const head = parseHead(bytes(answer))!;
    expect(head).toMatchObject({ startLine: 'HTTP/1.1 200 OK', contentLength: 12, sessionId: 'abc', close: true, chunked: false, length: answer.indexOf('body') });
    expect(statusOf(head)).toBe(200);
    expect(parseHead(bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'))!.chunked).toBe(true);
    expect(() => parseHead(bytes('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'))).toThrow(BadMessageError);
  });

  it('finds where a Content-Length body ends, whatever pieces it comes in', () => {
    for (const size of [1, 3, 100]) {
      expect(feedInPieces('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'hello', size)).toEqual({ payload: 'hello', end: 5 });
    }
  });

  it('finds where a chunked body ends — extensions and trailers included — and takes its framing off', () => {
    const body = '5;name=x\r\nhello\r\n1A\r\n' + 'a'.repeat(26) + '\r\n0\r\nTrailer: t\r\n\r\n';
    for (const size of [1, 2, 7, 1000]) {
      expect(feedInPieces('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', body, size)).toEqual({ payload: 'hello' + 'a'.repeat(26), end: body.length });
    }
  });

  it('says a body goes on past the bytes fed, and that one framed by the close never ends', () => {
    expect(feedInPieces('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhel', 100)).toEqual({ payload: 'hel', end: -1 });
    expect(feedInPieces('HTTP/1.1 200 OK\r\n\r\n', 'all of it', 4)).toEqual({ payload: 'all of it', end: -1 });
  });

  it('knows the answers that have no body', () => {
    expect([responseHasBody('HEAD', 200), responseHasBody('POST', 204), responseHasBody('GET', 304), responseHasBody('POST', 202)]).toEqual([false, false, false, true]);
  });
});
