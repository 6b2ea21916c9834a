import type { ProxyRequest } from './request-response.ts';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/** Reads a request body whole (it may be replayed on recovery), refusing more than `limit` bytes. */
export function readRequestBody(req: ProxyRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => collect(req, limit, (body) => (body instanceof BodyTooLargeError ? reject(body) : resolve(body)), reject));
}

/**
 * `readRequestBody` for a caller that answers a body too large itself: the error comes as the
 * result, not thrown (no try/catch and no wrapper on the proxy's hot path).
 */
export function readBoundedBody(req: ProxyRequest, limit: number): Promise<Buffer | BodyTooLargeError> {
  return new Promise((resolve, reject) => collect(req, limit, resolve, reject));
}

/** Listeners rather than `for await`: no async iterator per request on the hot path; no array for a body in one chunk. */
function collect(req: ProxyRequest, limit: number, done: (body: Buffer | BodyTooLargeError) => void, fail: (error: unknown) => void): void {
  if (Number(req.headers['content-length']) > limit) return done(new BodyTooLargeError(limit));
  let first: Buffer | null = null;
  let more: Buffer[] | null = null;
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      req.off('data', onData).off('end', onEnd);
      done(new BodyTooLargeError(limit));
      return;
    }
    if (first === null) first = chunk;
    else (more ??= [first]).push(chunk);
  };
  const onEnd = () => {
    req.off('error', fail);
    done(more ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0)));
  };
  // 'end' comes once: `on`, without the wrapper `once` makes.
  req.on('data', onData).on('end', onEnd).once('error', fail);
}
