// HAProxy as the bench's yardstick: sticky on the Mcp-Session-Id header with a stick table,
// one thread, no MCP logic — what a session-pinning proxy costs when it is written in C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../app/net/free-port.ts';
import { killChild } from '../test/processes.ts';

/** Debian's package puts it here; `PINLAB_BENCH_HAPROXY` names another binary. */
export const HAPROXY = process.env.PINLAB_BENCH_HAPROXY ?? '/usr/sbin/haproxy';

export interface RunningHaproxy {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** Whether the bench can run an HAProxy row here. */
export function haproxyInstalled(): boolean {
  return existsSync(HAPROXY);
}

/**
 * The configuration: round-robin for new sessions, then the pod that answered with an
 * `Mcp-Session-Id` stays the session's (stored from the answer, matched on the request).
 */
function config(port: number, pods: readonly URL[]): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-keep-alive',
    'frontend mcp',
    `  bind 127.0.0.1:${port}`,
    '  default_backend pods',
    'backend pods',
    '  balance roundrobin',
    '  http-reuse always',
    '  stick-table type string len 128 size 100k expire 30m',
    '  stick store-response res.hdr(mcp-session-id)',
    '  stick match req.hdr(mcp-session-id)',
    ...pods.map((pod, i) => `  server pod${i + 1} ${pod.host}`),
    '',
  ].join('\n');
}

/** Starts HAProxy in the foreground in front of `pods` (their MCP URLs, one path); resolves once it answers. */
export async function startHaproxy(pods: readonly string[]): Promise<RunningHaproxy> {
  const urls = pods.map((p) => new URL(p));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pinlab-bench-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config(port, urls));
  let output = '';
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const close = async () => {
    await killChild(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}${urls[0]!.pathname}`;
  for (let tries = 0; ; tries++) {
    try {
      // Any answer will do (the pods answer GET without a session with an error): HAProxy is up.
      await (await request(url, { method: 'GET' })).body.dump();
      return { url, pid: child.pid!, close };
    } catch (error) {
      if (child.exitCode !== null || tries > 100) {
        await close();
        throw new Error(`HAProxy did not start: ${(error as Error).message}\n${output}`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
