import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import type { DemoBackendStats, SessionLostStyle } from '../../app/demo-backend/server.ts';
import { killChild, spawnNode } from './processes.ts';

/** A demo MCP server in its own process: a pod that can really die. */
export interface TestPod {
  name: string;
  port: number;
  /** Its MCP URL, as the service lists it. */
  url: string;
  /** `<host>:<port>`: how the proxy names it in records and events. */
  address: string;
  /** Its process id now (a restart changes it). */
  readonly pid: number;
  kill(): Promise<void>;
  /** Kill and start again on the same port: same address, memory lost. */
  restart(): Promise<void>;
  /** SIGSTOP: a hung pod. The kernel still accepts its connections; nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stats(): Promise<DemoBackendStats>;
  /** The pod's next POST on the MCP path has its connection dropped unanswered (a reset after the request was written). */
  resetNext(): Promise<void>;
}

export interface PodOptions {
  sessionLost?: SessionLostStyle;
  /** Answers as one JSON body rather than SSE. */
  jsonResponse?: boolean;
}

/** `host`: a loopback address to listen on (127.0.0.2, …: pods on the same port, as a headless Service's are); default 127.0.0.1. */
export async function startPod(name: string, options: PodOptions & { port?: number; host?: string } = {}): Promise<TestPod> {
  const style = options.sessionLost ?? '404';
  const host = options.host ?? '127.0.0.1';
  const args = ['--pod', name, '--host', host, '--session-lost', style, ...(options.jsonResponse ? ['--json-response'] : [])];
  const launch = async (port: number) => {
    const { child, line } = await spawnNode('app/demo-backend/main.ts', ['--port', String(port), ...args], /"event":"listening"/);
    return { child, port: (JSON.parse(line) as { port: number }).port };
  };
  const first = await launch(options.port ?? 0);
  const port = first.port;
  let child: ChildProcess = first.child;
  return {
    name,
    port,
    url: `http://${host}:${port}/mcp`,
    address: `${host}:${port}`,
    get pid() {
      return child.pid as number;
    },
    kill: () => killChild(child),
    async restart() {
      await killChild(child);
      ({ child } = await launch(port));
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stats() {
      const response = await request(`http://${host}:${port}/healthz`);
      return (await response.body.json()) as DemoBackendStats;
    },
    async resetNext() {
      await (await request(`http://${host}:${port}/chaos/reset-next`, { method: 'POST' })).body.dump();
    },
  };
}

export async function startPods(count: number, options: PodOptions = {}): Promise<TestPod[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startPod(`pod-${i + 1}`, options)));
}
