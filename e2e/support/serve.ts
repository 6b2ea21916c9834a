import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServedLab {
  /** The page to open, token included. */
  url: string;
  token: string;
  origin: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * `pinlab serve` as a user runs it, in its own process: a real lab (embedded Redis, replicas,
 * ingress, pods) behind web mode on free ports; `where` runs another checkout, or a clean environment.
 */
export async function serveLab(args: string[], where: { root?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ServedLab> {
  const child: ChildProcess = spawn(process.execPath, ['app/cli/bin.js', 'serve', '--port', '0', '--ingress-port', '0', ...args], {
    cwd: where.root ?? ROOT, env: where.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pinlab serve did not start in 60 s:\n${output}`)), 60_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output += line + '\n';
        const match = /Pinlab web mode: (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pinlab serve exited with ${code}:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    token: parsed.searchParams.get('token')!,
    origin: parsed.origin,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
