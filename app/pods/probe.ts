import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { messageOf } from '../../proxy-core/errors.ts';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0', id: 'pinlab-probe', method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pinlab-probe', version: '0' } },
});

/**
 * Waits until `url` answers an MCP initialize (then closes the session it opened). Each
 * attempt has its own timeout: a published Docker port accepts connections before the
 * container listens, and may hold them.
 */
export async function waitForMcp(url: string, options: { timeoutMs?: number; attemptTimeoutMs?: number; isAlive?: () => boolean } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const attemptTimeout = options.attemptTimeoutMs ?? 1000;
  let last = 'no answer';
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    if (options.isAlive && !options.isAlive()) throw new Error(`the pod died before it answered at ${url}`);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: INITIALIZE,
        headersTimeout: attemptTimeout,
        bodyTimeout: attemptTimeout,
        signal: AbortSignal.timeout(attemptTimeout),
      });
      await response.body.dump();
      if (response.statusCode === 200) {
        const session = response.headers['mcp-session-id'];
        if (typeof session === 'string') {
          const closed = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': session }, signal: AbortSignal.timeout(attemptTimeout) });
          await closed.body.dump();
        }
        return;
      }
      last = `HTTP ${response.statusCode}`;
    } catch (error) {
      last = messageOf(error);
    }
    await sleep(delay);
  }
  throw new Error(`no MCP answer at ${url} within ${timeoutMs / 1000} s (last: ${last})`);
}
