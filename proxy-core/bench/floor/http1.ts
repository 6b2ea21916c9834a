// Just enough HTTP/1.1 for the floor studies beside it (lean-*.ts): where a head ends, its
// start line and the few headers a sticky pass-through reads, and where a body ends
// (Content-Length, chunked, or the connection's close). A floor study, not a parser to ship:
// no obs-fold, no request smuggling checks, trailers skipped, limits only on a head's size.

const HEAD_END = Buffer.from('\r\n\r\n');
/** Beyond this, a head that has not ended is refused (Node's own default is 16 KiB). */
export const MAX_HEAD = 64 * 1024;

export class BadMessageError extends Error {
  override name = 'BadMessageError';
}

export interface Head {
  /** The head's bytes, blank line included. */
  length: number;
  /** "POST /mcp HTTP/1.1" or "HTTP/1.1 200 OK". */
  startLine: string;
  /** The header lines as sent ("Name: value"), start line left out. */
  lines: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** `Connection: close`: the sender closes after this message. */
  close: boolean;
  sessionId: string | undefined;
}

/** The head at the start of `buf`, or null while its end has not arrived. Throws `BadMessageError`. */
export function parseHead(buf: Buffer): Head | null {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw new BadMessageError('head too large');
    return null;
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const startLine = lines.shift()!;
  const head: Head = { length: end + 4, startLine, lines, contentLength: -1, chunked: false, close: false, sessionId: undefined };
  for (const line of lines) {
    const colon = line.indexOf(':');
    // The names read here are 10, 14 and 17 characters long: other lines are not lower-cased.
    if (colon !== 10 && colon !== 14 && colon !== 17) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) throw new BadMessageError(`bad Content-Length "${value}"`);
      head.contentLength = Number(value);
    } else if (name === 'mcp-session-id') head.sessionId = value;
    else if (name === 'transfer-encoding') head.chunked = value.toLowerCase().endsWith('chunked');
    else if (name === 'connection') head.close = value.toLowerCase().includes('close');
  }
  return head;
}

/** A response head's status code. */
export function statusOf(head: Head): number {
  return Number(head.startLine.slice(9, 12));
}

/** A request head's method. */
export function methodOf(head: Head): string {
  return head.startLine.slice(0, head.startLine.indexOf(' '));
}

/** `lines` split into names and values, those whose lower-cased name is in `drop` left out. */
export function headerPairs(lines: readonly string[], drop: ReadonlySet<string>): string[] {
  const pairs: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (!drop.has(name.toLowerCase())) pairs.push(name, line.slice(colon + 1).trim());
  }
  return pairs;
}

/** Headers a hop consumes: not passed on as they are. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** Whether a response to `method` with `status` has a body (RFC 9112 §6.3). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
}

// Where BodyFraming is in a body (numbers, not an enum: Node strips types, it does not compile enums).
const State = { Length: 0, UntilClose: 1, ChunkSize: 2, ChunkExtension: 3, ChunkData: 4, ChunkDataEnd: 5, TrailerStart: 6, TrailerLine: 7, Done: 8 } as const;
type State = (typeof State)[keyof typeof State];
const LF = 10;
const CR = 13;

/**
 * Where one body ends, fed its bytes as they arrive. With `onPayload`, the body's payload is
 * handed out too (chunked framing taken off) for a sink that frames it again.
 */
export class BodyFraming {
  private state: State = State.Done;
  /** Bytes left: of the body (Length) or of the current chunk (ChunkData). */
  private remaining = 0;

  /** Starts a message; `hasBody` false for a request without length or an answer that has none. */
  start(head: Head, hasBody: boolean, untilClose: boolean): void {
    this.remaining = 0;
    if (!hasBody) this.state = State.Done;
    else if (head.chunked) this.state = State.ChunkSize;
    else if (head.contentLength > 0) {
      this.state = State.Length;
      this.remaining = head.contentLength;
    } else this.state = head.contentLength < 0 && untilClose ? State.UntilClose : State.Done;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Whether the body ends only when the sender closes the connection. */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /** Reads `buf` from `from`; returns the index just past the body's end, or -1 when it goes on past `buf`. */
  feed(buf: Buffer, from: number, onPayload?: (payload: Buffer) => void): number {
    let i = from;
    while (this.state !== State.Done) {
      if (i >= buf.length) return -1;
      switch (this.state) {
        case State.UntilClose:
          onPayload?.(buf.subarray(i));
          return -1;
        case State.Length:
        case State.ChunkData: {
          const take = Math.min(this.remaining, buf.length - i);
          onPayload?.(buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.state === State.Length ? State.Done : State.ChunkDataEnd;
          break;
        }
        case State.ChunkSize: {
          const byte = buf[i++]!;
          const digit = hexDigit(byte);
          if (digit >= 0) {
            this.remaining = this.remaining * 16 + digit;
            if (this.remaining > Number.MAX_SAFE_INTEGER / 16) throw new BadMessageError('chunk too large');
          } else if (byte === LF) this.endSizeLine();
          else if (byte !== CR) this.state = State.ChunkExtension;
          break;
        }
        case State.ChunkExtension:
          if (buf[i++] === LF) this.endSizeLine();
          break;
        case State.ChunkDataEnd: // the CRLF after a chunk's data
          if (buf[i++] === LF) this.state = State.ChunkSize;
          break;
        case State.TrailerStart: {
          const byte = buf[i++]!;
          if (byte === LF) this.state = State.Done;
          else if (byte !== CR) this.state = State.TrailerLine;
          break;
        }
        case State.TrailerLine:
          if (buf[i++] === LF) this.state = State.TrailerStart;
          break;
      }
    }
    return i;
  }

  private endSizeLine(): void {
    this.state = this.remaining === 0 ? State.TrailerStart : State.ChunkData;
  }
}

function hexDigit(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
