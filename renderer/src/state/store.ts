import type { LabMessage } from '../../../app/api/bridge.ts';
import type { Command, CommandArgs, CommandResult, LabStatus } from '../../../app/api/contract.ts';
import type { LabEvent } from '../../../app/events.ts';
import type { LabSnapshot } from '../../../app/state/snapshot.ts';
import type { Connection, ObservableBridge } from '../api/web-bridge.ts';
import { applyEvents, emptyActivity, emptySnapshot, evictEnded, forgetSessions, noteActivity, pruneActivity, type Activity } from './apply.ts';

export interface UiError {
  id: number;
  command: string;
  message: string;
}

/**
 * Everything the UI draws, published as a new object at most once per animation frame. The
 * snapshot, status and errors are replaced, never changed in place; `activity`'s maps are the
 * exception: updated in place between frames, they only feed short-lived highlights.
 */
export interface LabView {
  snapshot: LabSnapshot;
  /** `undefined` until the lab has answered `lab.status`; `null` when no lab runs. */
  status: LabStatus | null | undefined;
  /** Why the lab's status could not be read, while it cannot. */
  statusError: string | null;
  connection: Connection;
  /** Keys of the commands in flight (`pod.kill:pod-2`…), for buttons to show progress. */
  running: ReadonlySet<string>;
  errors: readonly UiError[];
  activity: Activity;
  /** Page clock (ms) when this view was published. */
  at: number;
}

/** Events after which the lab's status (addresses, switches, traffic) may have changed. */
const STATUS_EVENTS = new Set(['pod.changed', 'replica.changed', 'redis.changed', 'lab.log']);
const ACTIVITY_KEEP_MS = 3000;

/**
 * The lab as the UI sees it: the snapshot kept by the shared reducer from the live stream,
 * the lab's status, and the commands in flight. However many event batches arrive, React
 * hears of them once per animation frame.
 */
export class LabStore {
  private view: LabView;
  private draft: Omit<LabView, 'at' | 'running' | 'errors'> & { running: Set<string>; errors: UiError[] };
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private nextErrorId = 1;
  private statusAsked = 0;
  /** Events received since the last publish: reduced in one batch when the frame comes. */
  private pending: LabEvent[] = [];

  constructor(private readonly bridge: ObservableBridge) {
    this.draft = {
      snapshot: emptySnapshot(), status: undefined, statusError: null, connection: bridge.onConnection ? 'connecting' : 'live',
      running: new Set(), errors: [], activity: emptyActivity(),
    };
    this.view = this.freeze();
  }

  /** Follows the lab; returns the stop. */
  start(): () => void {
    const offMessages = this.bridge.subscribe((message) => this.receive(message));
    const offConnection = this.bridge.onConnection?.((connection) => {
      this.draft.connection = connection;
      if (connection === 'live') void this.refreshStatus();
      this.changed();
    });
    void this.refreshStatus();
    return () => {
      offMessages();
      offConnection?.();
      clearTimeout(this.statusTimer);
    };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getView = (): LabView => this.view;

  /**
   * Runs one command, marked as running under `key` meanwhile. Its error, if any, goes to the
   * error list; the result is returned (undefined after an error).
   */
  async run<C extends Command>(key: string, command: C, args?: CommandArgs<C>): Promise<CommandResult<C> | undefined> {
    this.draft.running.add(key);
    if (command === 'lab.start') this.replaceSnapshot(emptySnapshot()); // the lab starts from an empty snapshot too
    this.changed();
    try {
      const reply = await this.bridge.invoke(command, args);
      if ('error' in reply) {
        this.draft.errors = [...this.draft.errors, { id: this.nextErrorId++, command, message: reply.error.message }];
        return undefined;
      }
      return reply.result;
    } finally {
      this.draft.running.delete(key);
      this.changed();
      if (command !== 'scenario.run' && command !== 'report.export') void this.refreshStatus();
    }
  }

  dismissError(id: number): void {
    this.draft.errors = this.draft.errors.filter((error) => error.id !== id);
    this.changed();
  }

  async refreshStatus(): Promise<void> {
    const asked = ++this.statusAsked;
    const reply = await this.bridge.invoke('lab.status');
    if (asked !== this.statusAsked) return; // a later ask is under way: its answer is the newer one
    // On an error the last status stays: the next event or reconnect asks again.
    if ('error' in reply) {
      this.draft.statusError = reply.error.message;
    } else {
      this.draft.status = reply.result;
      this.draft.statusError = null;
    }
    this.changed();
  }

  private receive(message: LabMessage): void {
    if ('snapshot' in message) {
      this.replaceSnapshot(message.snapshot);
      noteActivity(this.draft.activity, message.snapshot.recent.filter((event) => event.type === 'session.created'), performance.now());
    }
    if ('events' in message) {
      this.pending.push(...message.events);
      noteActivity(this.draft.activity, message.events, performance.now());
      if (message.events.some((event) => STATUS_EVENTS.has(event.type))) this.refreshStatusSoon();
    }
    this.changed();
  }

  private refreshStatusSoon(): void {
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => void this.refreshStatus(), 250);
  }

  /** Publishes at the next animation frame (or shortly, in a hidden window where frames stop). */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const frame = requestAnimationFrame(() => publish());
    const timer = setTimeout(() => publish(), 250);
    const publish = () => {
      if (!this.scheduled) return;
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      this.scheduled = false;
      const before = this.draft.snapshot;
      this.draft.snapshot = applyEvents(before, this.pending);
      this.pending = [];
      if (this.draft.snapshot.evicted !== before.evicted) forgetSessions(this.draft.activity, this.draft.snapshot.sessions);
      pruneActivity(this.draft.activity, performance.now(), ACTIVITY_KEEP_MS);
      this.view = this.freeze();
      for (const listener of this.listeners) listener();
    };
  }

  /** A snapshot from the lab (or a new lab's empty one) replaces whatever was not applied yet. */
  private replaceSnapshot(snapshot: LabSnapshot): void {
    this.draft.snapshot = evictEnded(snapshot);
    this.pending = [];
  }

  private freeze(): LabView {
    const { draft } = this;
    return { ...draft, running: new Set(draft.running), errors: draft.errors, at: performance.now() };
  }
}
