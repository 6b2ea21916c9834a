/**
 * Commands from the window pass through the gate; quitting closes it, so no command starts
 * a lab while the app is stopping one, and waits (a while) for the commands already running.
 */
export class CommandGate {
  private running = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `task`, or answers `refused()` once the gate is closed. */
  async run<T>(task: () => Promise<T>, refused: () => T): Promise<T> {
    if (this.closed) return refused();
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Resolves when no command is running. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

export interface CloseLabOptions {
  gate: CommandGate;
  /** LabService.close(): stops the lab and removes its pods. */
  close: () => Promise<void>;
  /** Lab.stopAll(): also a lab whose start was still under way. */
  stopAll: () => Promise<void>;
  log: (message: string) => void;
  /** How long a running command (a lab.start mid-boot, a scenario) may finish first. */
  graceMs?: number;
  /** Past this, the app quits even if removing the lab hangs (a stuck container engine). */
  timeoutMs?: number;
}

/**
 * What quitting does before the app exits: refuse new commands, let running ones finish
 * (bounded), stop the lab and remove its containers. Never throws; resolves false when it
 * gave up waiting, so the caller can say that something may be left behind.
 */
export async function closeLab(options: CloseLabOptions): Promise<boolean> {
  const { gate, log } = options;
  const graceMs = options.graceMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  gate.close();
  if (!(await within(gate.idle(), graceMs))) {
    log(`a command is still running after ${graceMs / 1000} s: stopping the lab anyway`);
  }
  const stop = (async () => {
    try {
      await options.close();
    } catch (error) {
      log(`while stopping the lab: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      await options.stopAll();
    } catch (error) {
      log(`while stopping labs still starting: ${error instanceof Error ? error.message : String(error)}`);
    }
  })();
  if (await within(stop, timeoutMs)) return true;
  log(`stopping the lab took more than ${timeoutMs / 1000} s: quitting anyway; pods may be left behind (the next lab started removes them)`);
  return false;
}

/** True when `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
