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
  /** `127.0.0.1:<port>`: how the proxy names it in records and events. */
  address: string;
  kill(): Promise<void>;
  /** Kill and start again on the same port: same address, memory lost. */
  restart(): Promise<void>;
  stats(): Promise<DemoBackendStats>;
}

export async function startPod(name: string, options: { sessionLost?: SessionLostStyle; port?: number } = {}): Promise<TestPod> {
  const style = options.sessionLost ?? '404';
  const launch = async (port: number) => {
    const { child, line } = await spawnNode('app/demo-backend/main.ts', ['--port', String(port), '--pod', name, '--session-lost', style], /"event":"listening"/);
    return { child, port: (JSON.parse(line) as { port: number }).port };
  };
  const first = await launch(options.port ?? 0);
  const port = first.port;
  let child: ChildProcess = first.child;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    address: `127.0.0.1:${port}`,
    kill: () => killChild(child),
    async restart() {
      await killChild(child);
      ({ child } = await launch(port));
    },
    async stats() {
      const response = await request(`http://127.0.0.1:${port}/healthz`);
      return (await response.body.json()) as DemoBackendStats;
    },
  };
}

export async function startPods(count: number, options: { sessionLost?: SessionLostStyle } = {}): Promise<TestPod[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startPod(`pod-${i + 1}`, options)));
}
