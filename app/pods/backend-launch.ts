import type { BackendSpec } from './runtime.ts';

type DemoBackend = Extract<BackendSpec, { kind: 'demo' }>;
type CommandBackend = Extract<BackendSpec, { kind: 'command' }>;

/** Where the demo backend serves MCP. */
export const DEMO_MCP_PATH = '/mcp';

/**
 * The demo backend's arguments after its script, the same in a container and as a process:
 * where it listens, the pod name it answers `whoami` with, how it says a session is lost, and
 * where its carts live (with Redis carts, the Redis: the lab fills in its own).
 */
export function demoArgs(name: string, backend: DemoBackend, host: string, port: number): string[] {
  const args = ['--host', host, '--port', String(port), '--pod', name, '--session-lost', backend.sessionLost ?? '404'];
  if (backend.carts === 'redis') {
    if (!backend.cartsRedisUrl) throw new Error(`pod ${name}: the demo's Redis carts need a Redis URL, and the lab has none`);
    args.push('--carts', 'redis', '--redis-url', backend.cartsRedisUrl);
  }
  return args;
}

/**
 * A user's command told its port where the server looks for it: its variable (`portEnv`) and
 * any `{port}` in its arguments. `env` is the backend's own environment with those added.
 */
export function commandWithPort(name: string, backend: CommandBackend, port: number): { args: string[]; env: Record<string, string> } {
  return {
    args: backend.args.map((arg) => arg.replaceAll('{port}', String(port))),
    env: { ...backend.env, [backend.portEnv]: String(port), POD_NAME: name },
  };
}
