import { Command, Redis, type RedisOptions } from 'ioredis';

/** How a command that outlived its bound fails: ioredis's own `commandTimeout` message. */
const TIMED_OUT = 'Command timed out';

/**
 * An ioredis connection made cheap per command, for the store's hot path (one GETEX per
 * follow-up), with what ioredis's options would have given kept:
 *
 * - Writes are batched per loop turn, as `enableAutoPipelining` does: the first command of a
 *   turn corks the socket and `setImmediate` uncorks it, so the commands of every request read
 *   in that turn go out in one write — with no Pipeline object, result array and `nextTick` per
 *   batch and command.
 * - Every command is bounded, as `commandTimeout` does, but by one watchdog instead of a timer
 *   per command: a command unanswered after `commandTimeoutMs` fails with "Command timed out"
 *   (within a quarter of that more), so a request never hangs on a Redis that stopped answering.
 */
export class BatchedRedis extends Redis {
  private readonly commandTimeoutMs: number;
  /** The socket corked for this loop turn's commands, uncorked at `setImmediate`. */
  private corked: { uncork(): void } | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /**
   * The newest command sent as of each watchdog tick, and when: once a mark is `commandTimeoutMs`
   * old, it and every command ahead of it (replies come in order) have waited at least that long.
   */
  private readonly marks: { item: unknown; at: number }[] = [];

  constructor(url: string, options: Omit<RedisOptions, 'enableAutoPipelining' | 'commandTimeout' | 'replyMapping'> & { commandTimeoutMs: number }) {
    const { commandTimeoutMs, ...rest } = options;
    super(url, { ...rest, enableAutoPipelining: false });
    this.commandTimeoutMs = commandTimeoutMs;
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (this.corked === null && this.stream) {
      const socket = this.stream;
      socket.cork();
      this.corked = socket;
      setImmediate(this.uncork);
    }
    this.watchdog ??= setInterval(this.expireWaiting, Math.max(5, this.commandTimeoutMs / 4)).unref();
    return super.sendCommand(command, stream);
  }

  override disconnect(reconnect?: boolean): void {
    this.stopWatching();
    super.disconnect(reconnect);
  }

  private stopWatching(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.marks.length = 0;
  }

  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = null;
    socket?.uncork();
  };

  /** Fails what has waited `commandTimeoutMs`; stops once nothing waits. */
  private readonly expireWaiting = (): void => {
    const queue = this.commandQueue;
    if (queue.length === 0) return this.stopWatching();
    const now = performance.now();
    this.marks.push({ item: queue.peekBack(), at: now });
    let due = -1;
    // 1 ms of slack: the loop's clock and this one may disagree by a rounding.
    for (let i = 0; i < this.marks.length; i++) if (now - this.marks[i]!.at >= this.commandTimeoutMs - 1) due = i;
    if (due === -1) return;
    const { item } = this.marks[due]!;
    this.marks.splice(0, due + 1);
    let last = -1;
    for (let i = 0; i < queue.length; i++) {
      if (queue.peekAt(i) === item) {
        last = i;
        break;
      }
    }
    // Not found: answered already, and with it everything ahead of it.
    for (let i = 0; i <= last; i++) {
      const { command } = queue.peekAt(i)!;
      if (command instanceof Command && !command.isSettled) command.reject(new Error(TIMED_OUT));
    }
  };
}
