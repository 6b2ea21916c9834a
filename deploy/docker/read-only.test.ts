import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentOf } from '../../app/pods/image-content.ts';
import { call, connectClient } from '../../proxy-core/test/client.ts';
import { startPod, type TestPod } from '../../proxy-core/test/pods.ts';
import { killChild } from '../../proxy-core/test/processes.ts';
import { startRedis, type TestRedis } from '../../proxy-core/test/redis.ts';
import { execForm, instructionsOf, keyValues, parseDockerfile, type Stage } from './dockerfile.ts';
import { buildStageFiles } from './offline-image.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HAS_STRACE = spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;
if (!HAS_STRACE) {
  console.warn('deploy/docker/read-only.test.ts: strace is not installed, so what pinlab-proxy writes was NOT checked (apt-get install strace).');
}

/** Syscalls that change the filesystem by path (the open family only with a write flag). */
const WRITING = new Set([
  'creat', 'mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'link', 'linkat', 'symlink', 'symlinkat',
  'truncate', 'chmod', 'fchmodat', 'fchmodat2', 'chown', 'lchown', 'fchownat', 'mknod', 'mknodat', 'utime', 'utimes', 'utimensat', 'futimesat',
  'setxattr', 'lsetxattr', 'removexattr', 'lremovexattr',
]);
const OPENING = new Set(['open', 'openat', 'openat2']);
const WRITE_FLAGS = /\bO_(WRONLY|RDWR|CREAT|TRUNC|APPEND)\b/;

/**
 * Every path a traced process changed or opened for writing, from `strace -f -y -e trace=%file`
 * output (`PID name(args) = result`): relative paths resolved against the dirfd strace shows
 * (`AT_FDCWD</dir>`), else against `cwd`. Attempts that failed count too.
 */
function writtenPaths(trace: string, cwd: string): string[] {
  const written = new Set<string>();
  for (const line of trace.split('\n')) {
    const call = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (!call) continue;
    const [, name = '', args = ''] = call;
    if (!WRITING.has(name) && !(OPENING.has(name) && WRITE_FLAGS.test(args))) continue;
    let dir = cwd;
    for (const token of args.matchAll(/(?:AT_FDCWD|\d+)<([^>]*)>|"((?:[^"\\]|\\.)*)"/g)) {
      if (token[1] !== undefined) dir = token[1];
      else if (token[2]) written.add(path.resolve(dir, token[2]));
    }
  }
  return [...written].sort();
}

/** The process strace started (its one child). */
function traceeOf(strace: ChildProcess): number {
  const children = readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  if (children.length !== 1) throw new Error(`strace (${strace.pid}) has ${children.length} children, not 1`);
  return children[0] as number;
}

/** Kills strace and the proxy it runs: killing strace alone would leave the proxy running, detached. */
async function stopTraced(strace: ChildProcess): Promise<void> {
  if (strace.exitCode === null && strace.signalCode === null) {
    try {
      process.kill(traceeOf(strace), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await killChild(strace);
}

/** Resolves with the first line of the child's output that matches, or rejects with all of it. */
function firstLine(child: ChildProcess, pattern: RegExp, output: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in 20 s:\n${output.join('\n')}`)), 20_000);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output.push(line);
        if (pattern.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} first:\n${output.join('\n')}`));
    });
  });
}

describe.skipIf(!HAS_STRACE)('pinlab-proxy as the image runs it, under strace', () => {
  const image = parseDockerfile(readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8')).stages.at(-1) as Stage;
  let work: string;
  let app: string;
  let redis: TestRedis;
  let pod: TestPod;
  beforeAll(async () => {
    // The image's /app, as the build stage leaves it (offline-image.ts): dist/proxy-core compiled by
    // tsconfig.build.json, the runtime package.json, and its dependencies alone (copied, so nothing
    // else in node_modules can stand in for one).
    work = mkdtempSync(path.join(tmpdir(), 'pinlab-read-only-'));
    app = path.join(work, 'app');
    for (const file of await buildStageFiles(ROOT)) {
      const target = path.join(app, file.name.slice('files/'.length));
      mkdirSync('directory' in file ? target : path.dirname(target), { recursive: true });
      if (!('directory' in file)) writeFileSync(target, await contentOf(file), { mode: file.mode });
    }
    [redis, pod] = await Promise.all([startRedis(), startPod('pod-1')]);
  }, 120_000);
  let traced: ChildProcess | undefined;
  afterAll(async () => {
    if (traced) await stopTraced(traced); // a test that timed out never reached its finally
    await pod?.kill();
    await redis?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes nothing outside /tmp while it serves a session through Redis and stops on SIGTERM', async () => {
    const [node, ...args] = execForm(instructionsOf(image, 'ENTRYPOINT')[0] ?? '') ?? [];
    expect(node).toBe('/nodejs/bin/node');
    const imageEnv = new Map(instructionsOf(image, 'ENV').flatMap((e) => [...keyValues(e)]));
    const traceFile = path.join(work, 'trace.txt');
    const child = spawn('strace', ['-f', '-qq', '-y', '-e', 'trace=%file', '-o', traceFile, process.execPath, ...args], {
      cwd: app,
      env: {
        PATH: process.env.PATH, HOME: '/home/nonroot', ...Object.fromEntries(imageEnv),
        // What a pod's ConfigMap would say, on loopback and a free port.
        PINLAB_HOST: '127.0.0.1', PINLAB_PORT: '0', PINLAB_BACKEND: pod.url, PINLAB_STORE: 'redis', PINLAB_REDIS_URL: redis.url,
        PINLAB_STORE_REQUIRED: 'on', PINLAB_REPLICA_ID: 'read-only-1', PINLAB_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    traced = child;
    const output: string[] = [];
    try {
      const ready = await firstLine(child, /listening on/, output);
      const url = (JSON.parse(ready) as { msg: string }).msg.split(' listening on ')[1] as string;
      const origin = new URL(url).origin;

      const { client, transport } = await connectClient(url);
      const first = await call<{ count: number }>(client, 'counter');
      expect((await call<{ count: number }>(client, 'counter')).count).toBe(first.count + 1);
      expect(await redis.client.keys('pinlab:session:*')).toHaveLength(1);
      await transport.terminateSession();
      await client.close();
      for (const pathname of ['/healthz', '/metrics']) expect((await request(origin + pathname).then((r) => r.body.dump().then(() => r.statusCode)))).toBe(200);

      // strace blocks fatal signals (-o with a command): SIGTERM goes to the proxy, as Kubernetes' would.
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      process.kill(traceeOf(child), 'SIGTERM');
      expect(await exited, output.join('\n')).toBe(0);
    } finally {
      await stopTraced(child);
    }

    const trace = readFileSync(traceFile, 'utf8');
    const main = path.join(app, args.at(-1) as string);
    expect(trace, 'the trace follows the proxy (it opened its own main.js)').toContain(`"${main}"`);
    // In a pod only /tmp (an emptyDir) and /dev are writable; /app is the read-only image.
    const forbidden = writtenPaths(trace, app).filter((file) => file.startsWith(app + path.sep) || !(file.startsWith('/tmp/') || file.startsWith('/dev/')));
    expect(forbidden).toEqual([]);
  });
});
