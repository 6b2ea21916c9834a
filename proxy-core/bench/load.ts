// The bench's load generator: SDK-free, so that its own cost stays small and the same for
// every row. Each session is opened as a client would (initialize, then
// notifications/initialized, in plain HTTP), then calls `tools/call echo` in a closed loop:
// one call in flight per session, the next sent when the answer has been read whole.
import { Pool } from 'undici';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pinlab-bench', version: '0' } },
});
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
/** server-everything's echo takes `message`, the demo backend's `text`: each ignores the other. */
export const ECHO = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello', text: 'hello' } } });

/** One session's way in: its pool of connections, path and session id. */
export interface BenchSession {
  pool: Pool;
  path: string;
  id: string;
}

export interface LoadResult {
  /** Calls answered within the measured window. */
  requests: number;
  /** Calls that failed or did not answer with a JSON-RPC result, in the whole run. */
  errors: number;
  /** The first error seen, to say what went wrong. */
  firstError: string | null;
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
}

/** The measured window's edges: called when it opens and when it closes, before counting goes on. */
export interface Window {
  open(): Promise<void> | void;
  close(): Promise<void> | void;
}

/** No measured window: load only (a warm-up). */
export const NO_WINDOW: Window = { open() {}, close() {} };

/** A pool of `connections` keep-alive connections to `url`'s origin. */
export function poolFor(url: string, connections: number): { pool: Pool; path: string } {
  const parsed = new URL(url);
  return { pool: new Pool(parsed.origin, { connections, pipelining: 1 }), path: parsed.pathname };
}

/** Opens a session through `pool` (initialize + initialized). */
export async function openSession(pool: Pool, path: string): Promise<BenchSession> {
  const init = await pool.request({ path, method: 'POST', headers: HEADERS, body: INITIALIZE });
  await init.body.text();
  const id = init.headers['mcp-session-id'];
  if (typeof id !== 'string') throw new Error(`initialize answered ${init.statusCode} without an Mcp-Session-Id`);
  const done = await pool.request({ path, method: 'POST', headers: { ...HEADERS, 'mcp-session-id': id }, body: INITIALIZED });
  await done.body.dump();
  if (done.statusCode !== 202 && done.statusCode !== 200) throw new Error(`notifications/initialized answered ${done.statusCode}`);
  return { pool, path, id };
}

/** Sessions opened through some URLs, and their pools. */
export interface OpenSessions {
  sessions: BenchSession[];
  /** Ends each session (DELETE, whatever it answers) and closes the pools. */
  close(): Promise<void>;
}

/** Opens `count` sessions spread over `urls` (a pool of connections for each). */
export async function openSessions(urls: readonly string[], count: number): Promise<OpenSessions> {
  const pools = urls.map((url) => poolFor(url, Math.ceil(count / urls.length)));
  const close = async () => {
    await Promise.all(sessions.map(async ({ pool, path, id }) => {
      try {
        await (await pool.request({ path, method: 'DELETE', headers: { ...HEADERS, 'mcp-session-id': id } })).body.dump();
      } catch {
        // Ending sessions only keeps the pods lean for the next session count; a failure costs nothing.
      }
    }));
    await Promise.all(pools.map(({ pool }) => pool.close()));
  };
  let sessions: BenchSession[] = [];
  try {
    sessions = await Promise.all(Array.from({ length: count }, (_, i) => {
      const { pool, path } = pools[i % pools.length]!;
      return openSession(pool, path);
    }));
  } catch (error) {
    await Promise.all(pools.map(({ pool }) => pool.destroy()));
    throw error;
  }
  return { sessions, close };
}

/** One `tools/call echo` on a session; what went wrong, or null. */
async function callEcho(pool: Pool, path: string, headers: Record<string, string>): Promise<string | null> {
  try {
    const response = await pool.request({ path, method: 'POST', headers, body: ECHO });
    const text = await response.body.text();
    return response.statusCode !== 200 || !text.includes('"result"') ? `HTTP ${response.statusCode}: ${text.slice(0, 200)}` : null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Every session calls in a loop for `warmupMs`, then for `measureMs` inside the window; only
 * calls answered inside the window count (latency: from sending to the whole answer read).
 */
export async function closedLoop(sessions: readonly BenchSession[], warmupMs: number, measureMs: number, window: Window): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let measuring = false;
  let stop = false;
  const loops = sessions.map(async ({ pool, path, id }) => {
    const headers = { ...HEADERS, 'mcp-session-id': id };
    while (!stop) {
      const started = performance.now();
      const failure = await callEcho(pool, path, headers);
      if (failure !== null) {
        errors++;
        firstError ??= failure;
      }
      if (measuring) latencies.push(performance.now() - started);
    }
  });
  await sleep(warmupMs);
  await window.open();
  measuring = true;
  const started = performance.now();
  await sleep(measureMs);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const requests = latencies.length;
  await window.close();
  stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(requests - 1, Math.floor(q * requests))] ?? NaN;
  return { requests, errors, firstError, rps: requests / elapsed, p50: at(0.5), p99: at(0.99) };
}

/** What a warm-up did. */
export interface WarmUp {
  requests: number;
  ms: number;
}

/**
 * The closed loop, unmeasured, until `requests` calls have been answered or `maxMs` has passed:
 * V8 optimizes code by how often it has run, so a warm-up is counted in requests, and bounded
 * in time for pods too slow to serve that many.
 */
export async function warmUp(sessions: readonly BenchSession[], requests: number, maxMs: number): Promise<WarmUp> {
  let answered = 0;
  let stop = false;
  const started = performance.now();
  const deadline = setTimeout(() => (stop = true), maxMs);
  await Promise.all(sessions.map(async ({ pool, path, id }) => {
    const headers = { ...HEADERS, 'mcp-session-id': id };
    while (!stop) {
      await callEcho(pool, path, headers);
      if (++answered >= requests) stop = true;
    }
  }));
  clearTimeout(deadline);
  return { requests: answered, ms: performance.now() - started };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
