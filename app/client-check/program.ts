import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Lines of the client's output kept, to show when it fails to start. */
const KEEP_LINES = 20;
/** How long the client has to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;

/** The command line with every `{url}` replaced by the ingress URL; a command without one is refused. */
export function withUrl(argv: readonly string[], url: string): string[] {
  if (!argv.some((word) => word.includes('{url}'))) {
    throw new Error('the client command must hold {url} where the ingress URL goes, such as "node my-client.js {url}"');
  }
  return argv.map((word) => word.replaceAll('{url}', url));
}

/**
 * The client program under check: run without a shell, in a process group of its own so
 * that stopping it stops what it started (`npx …` runs a child); its output kept.
 */
export class ClientProgram {
  /** Programs of this process still running: stopped on SIGINT/SIGTERM by the CLI. */
  static readonly running = new Set<ClientProgram>();
  private readonly argv: readonly string[];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private lines: string[] = [];
  /** How the last run ended (`exited with code 1`); null while it runs. */
  exit: string | null = null;

  constructor(argv: readonly string[]) {
    this.argv = argv;
  }

  start(): void {
    if (this.child) throw new Error('the client program is already running');
    const [command, ...args] = this.argv as [string, ...string[]];
    this.exit = null;
    this.lines = [];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    ClientProgram.running.add(this);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > KEEP_LINES) this.lines.shift();
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.exit ??= `could not start ${command}: ${error.message}`;
        this.ended(child);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exit ??= signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.ended(child);
        resolve();
      });
    });
  }

  /** Its last lines of output (stdout and stderr), for a message about it. */
  output(): string {
    return this.lines.join('\n');
  }

  /** SIGTERM to its process group, SIGKILL after a grace period; resolves once it is gone. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    signalGroup(child, 'SIGTERM');
    const gone = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!gone) signalGroup(child, 'SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  /** Stops every client program of this process (for signal handlers). */
  static async stopAll(): Promise<void> {
    await Promise.all([...ClientProgram.running].map((program) => program.stop()));
  }

  private ended(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = null;
    ClientProgram.running.delete(this);
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // The negative pid is the process group: the program and whatever it started.
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone already, or never formed
  }
}
