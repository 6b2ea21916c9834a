import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../app/net/free-port.ts';
import { killChild, spawnNode } from './processes.ts';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';

/** The reference MCP server (server-everything) in its own process, as a pod. */
export interface EverythingPod {
  /** Its MCP URL as the service lists it: `/sse` in `sse` mode, `/mcp` in `streamableHttp` mode. */
  url: string;
  /** `127.0.0.1:<port>`: how the proxy names it in records and events. */
  address: string;
  port: number;
  /** Its process id (the bench reads its CPU time and pins it to cores). */
  pid: number;
  /** Its stdout and stderr so far (it logs each SSE session's connect and disconnect). */
  output(): string;
  kill(): Promise<void>;
  /** SIGSTOP: a hung pod. */
  pause(): void;
  resume(): void;
}

/** Starts server-everything on a free loopback port; `sse` is the legacy HTTP+SSE transport (`GET /sse`, `POST /message?sessionId=`). */
export async function startEverything(mode: 'sse' | 'streamableHttp'): Promise<EverythingPod> {
  const port = await freePort();
  const ready = mode === 'sse' ? /Server is running on port/ : /listening on port/;
  const { child, output } = await spawnNode(EVERYTHING, [mode], ready, { PORT: String(port) });
  const process: ChildProcess = child;
  return {
    url: `http://127.0.0.1:${port}${mode === 'sse' ? '/sse' : '/mcp'}`,
    address: `127.0.0.1:${port}`,
    port,
    pid: process.pid as number,
    output,
    kill: () => killChild(process),
    pause: () => void process.kill('SIGSTOP'),
    resume: () => void process.kill('SIGCONT'),
  };
}
