// How a floor study starts: its pods from the command line, then a loopback port, announced
// the way the bench waits for (` listening on <url>`).
import type { Server } from 'node:net';

/** The pods' MCP URLs given to `script`. */
export function podsFromArgs(script: string): URL[] {
  const pods = process.argv.slice(2).map((url) => new URL(url));
  if (pods.length === 0) throw new Error(`usage: ${script} <pod MCP URL>…`);
  return pods;
}

/** Listens on a free loopback port and says where, with the pods' path. */
export function listenAndSay(server: Server, what: string, path: string): void {
  process.once('SIGINT', () => process.exit(0)); // a clean exit: `node --cpu-prof` writes its profile
  server.listen(0, '127.0.0.1', () => console.log(`${what} listening on http://127.0.0.1:${(server.address() as { port: number }).port}${path}`));
}
