import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { freePort } from '../net/free-port.ts';
import { rootPath } from '../paths.ts';
import { isAlive, ownerGone } from './alive.ts';
import { commandWithPort, DEMO_MCP_PATH, demoArgs } from './backend-launch.ts';
import { hostNode } from './host-node.ts';
import { PodTable, startingPod } from './pod-table.ts';
import { waitForMcp } from './probe.ts';
import { notReady, startFailure } from './start-failure.ts';
import type { BackendSpec, PodInfo, PodRuntime } from './runtime.ts';

const DEMO = rootPath('app', 'demo-backend', 'main.ts');
/** Where process pods leave pid files, so that a crashed lab's pods can be found and killed. */
export const PID_ROOT = join(tmpdir(), 'pinlab-pods');
const LOG_LINES = 500;

interface Running {
  info: PodInfo;
  backend: BackendSpec;
  port: number;
  child: ChildProcess;
  /** How it ended (`exited with code 1`), once it has; null while it runs. */
  exit: string | null;
  log: string[];
  /** Set when the lab itself kills it, so the exit is not reported as a crash. */
  expectedExit: string | null;
}

/** What a pid file holds: read back from disk, so checked before any process is killed by it. */
const pidFileSchema = z.object({
  pid: z.number().int().positive(),
  /** The lab's process: while it runs, the pod is not an orphan. */
  ownerPid: z.number().int().positive(),
  pod: z.string(),
  /** The program the pod runs: checked against the process before killing it (pid reuse). */
  command: z.string(),
});
type PidFile = z.infer<typeof pidFileSchema>;

/** Pods as child processes on loopback ports: used when Docker is not reachable. */
export class ProcessRuntime implements PodRuntime {
  readonly kind = 'process';
  private readonly labId: string;
  private readonly pods = new PodTable<Running>();
  readonly list = this.pods.list;
  readonly onEvent = this.pods.onEvent;
  private readonly pidDir: string;
  private readonly readyTimeoutMs: number;
  /** Set by close(): a start still on its way must not leave a process behind. */
  private closed = false;

  /** `readyTimeoutMs`: how long a pod has to answer MCP before it counts as failed (default 20 s). */
  constructor(options: { labId: string; readyTimeoutMs?: number }) {
    this.labId = options.labId;
    this.pidDir = join(PID_ROOT, this.labId);
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  }

  async removeOrphans(): Promise<number> {
    let removed = 0;
    let labs: string[];
    try {
      labs = readdirSync(PID_ROOT);
    } catch {
      return 0;
    }
    for (const lab of labs) {
      const dir = join(PID_ROOT, lab);
      let owned = false;
      for (const file of readdirSync(dir)) {
        const record = readPidFile(join(dir, file));
        if (!record) {
          rmSync(join(dir, file), { force: true });
          continue;
        }
        if (!ownerGone(record.ownerPid)) {
          owned = true;
          continue;
        }
        if (isAlive(record.pid) && runs(record.pid, record.command)) {
          process.kill(record.pid, 'SIGKILL');
          removed++;
        }
        rmSync(join(dir, file), { force: true });
      }
      if (!owned) rmSync(dir, { recursive: true, force: true });
    }
    return removed;
  }

  async start(name: string, backend: BackendSpec): Promise<PodInfo> {
    if (backend.kind === 'image') throw new Error(`pod ${name}: a Docker image backend needs the docker runtime (Docker is not in use)`);
    this.pods.assertFree(name);
    return this.launch(name, backend, await freePort());
  }

  /** The pod stays listed as dead (its logs readable), as the Docker runtime does. */
  async kill(name: string): Promise<void> {
    await this.stop(this.pods.get(name), 'killed');
  }

  async restart(name: string): Promise<PodInfo> {
    const pod = this.pods.get(name);
    await this.stop(pod, 'restarted in place');
    return this.launch(name, pod.backend, pod.port);
  }

  async pause(name: string): Promise<void> {
    const pod = this.pods.get(name);
    pod.child.kill('SIGSTOP');
    this.pods.update(pod, 'paused', 'paused (SIGSTOP)');
  }

  async unpause(name: string): Promise<void> {
    const pod = this.pods.get(name);
    pod.child.kill('SIGCONT');
    this.pods.update(pod, 'ready', 'unpaused (SIGCONT)');
  }

  async logs(name: string, lines = 100): Promise<string> {
    return this.pods.get(name).log.slice(-lines).join('\n');
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pods.values().map((pod) => this.stop(pod, 'lab stopped')));
    this.pods.clear();
    rmSync(this.pidDir, { recursive: true, force: true });
  }

  private async launch(name: string, backend: BackendSpec, port: number): Promise<PodInfo> {
    if (backend.kind === 'image') throw new Error(`pod ${name}: the process runtime cannot run an image`);
    if (this.closed) throw new Error(`pod ${name}: not started, the lab is stopping`);
    const path = backend.kind === 'demo' ? DEMO_MCP_PATH : backend.path;
    const node = hostNode();
    let command: string;
    let args: string[];
    let env: NodeJS.ProcessEnv;
    let cwd: string | undefined;
    if (backend.kind === 'demo') {
      command = node.path;
      args = [DEMO, ...demoArgs(name, backend, '127.0.0.1', port)];
      env = { ...process.env, PORT: String(port), POD_NAME: name, ...node.env };
    } else {
      command = backend.command;
      const withPort = commandWithPort(name, backend, port);
      args = withPort.args;
      env = { ...process.env, ...withPort.env };
      cwd = backend.cwd ?? process.cwd();
      if (!existsSync(cwd)) throw new Error(`pod ${name}: the command's working directory ${cwd} does not exist`);
    }
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const pod: Running = { info: startingPod(name, port, path, String(child.pid ?? '')), backend, port, child, exit: null, log: [], expectedExit: null };
    this.pods.set(pod);
    const outputEnded = new Promise((resolve) => child.once('close', resolve));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        pod.log.push(line);
        if (pod.log.length > LOG_LINES) pod.log.shift();
      });
    }
    let spawnFailed = false;
    child.once('error', (error: NodeJS.ErrnoException) => {
      // A spawn that fails emits no 'exit': this is its end.
      spawnFailed = pod.exit === null;
      pod.exit ??= error.code === 'ENOENT'
        ? `cannot run "${command}": not found (neither on the PATH nor a path from ${cwd ?? process.cwd()})`
        : `cannot run "${command}": ${error.message}`;
    });
    child.once('exit', (code, signal) => {
      pod.exit = signal ? `exited on ${signal}` : `exited with code ${code}`;
      this.pods.update(pod, 'dead', pod.expectedExit ?? pod.exit);
    });
    if (child.pid) this.writePidFile({ pid: child.pid, ownerPid: process.pid, pod: name, command: args[0] ?? command });
    try {
      await waitForMcp(pod.info.url, { timeoutMs: this.readyTimeoutMs, isAlive: () => pod.exit === null });
    } catch (error) {
      const exit = pod.exit;
      await this.stop(pod, 'failed to start');
      this.pods.delete(name);
      // Its output is read to the end first: a crash's last words can come after its exit.
      await Promise.race([outputEnded, sleep(1000)]);
      const output = pod.log.join('\n');
      throw spawnFailed && exit ? startFailure(name, exit, output, error) : notReady(name, pod.info.url, exit, output, error);
    }
    this.pods.update(pod, 'ready', 'started');
    return { ...pod.info };
  }

  private async stop(pod: Running, reason: string): Promise<void> {
    pod.expectedExit = reason;
    const { child } = pod;
    if (pod.exit === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(join(this.pidDir, `${pod.info.name}.pid`), { force: true });
  }

  private writePidFile(record: PidFile): void {
    mkdirSync(this.pidDir, { recursive: true });
    writeFileSync(join(this.pidDir, `${record.pod}.pid`), JSON.stringify(record));
  }
}

/** A pod's pid file, or null when it cannot be read or is not one. */
function readPidFile(file: string): PidFile | null {
  try {
    return pidFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

/** Guards against pid reuse: only a process still running the pod's program is killed. */
function runs(pid: number, command: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(command);
  } catch {
    return process.platform !== 'linux'; // no /proc: trust the pid file
  }
}
