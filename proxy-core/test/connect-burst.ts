import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** The client side of a burst: connects `count` sockets on "go", prints how many connected within `waitMs`. */
const BURST_CLIENT = `
import net from 'node:net';
const [port, count, waitMs] = process.argv.slice(1).map(Number);
process.stdin.once('data', () => {
  let connected = 0;
  const sockets = Array.from({ length: count }, () => net.connect(port, '127.0.0.1').on('connect', () => connected++).on('error', () => {}));
  setTimeout(() => {
    process.stdout.write(String(connected));
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  }, waitMs);
});
process.stdout.write('ready\\n');
`;

/**
 * How many of `count` connections to 127.0.0.1:`port` the kernel completes while this process's
 * loop is blocked (as a busy lab's is): what the listener's accept queue holds. A queue shorter
 * than the burst drops the rest's SYNs, and their retries (1 s, 3 s) meet the same full queue.
 * The connections are made by a child process, whose loop runs while this one's does not.
 */
export async function connectedWhileBlocked(port: number, count: number): Promise<number> {
  const cap = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  if (cap < count) throw new Error(`net.core.somaxconn is ${cap} here: it caps every listener's queue below ${count} (sysctl -w net.core.somaxconn=4096)`);
  const waitMs = 2000;
  const child = spawn(process.execPath, ['--input-type=module', '-e', BURST_CLIENT, String(port), String(count), String(waitMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  while (!output.includes('ready\n')) await once(child.stdout, 'data');
  child.stdin.write('go\n');
  // Blocks this loop past the child's count, so that nothing here accepts meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs + 500);
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the burst's client exited with ${code}: ${output}`);
  return Number(output.slice(output.indexOf('ready\n') + 'ready\n'.length));
}
