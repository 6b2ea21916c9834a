import { DEFAULTS, ProxyEvents, startProxy, type ProxyConfig, type ProxyEvent, type RunningProxy } from '../../proxy-core/index.ts';
import { freePort } from '../net/free-port.ts';

export type ReplicaState = 'running' | 'restarting' | 'down';

export interface ReplicaInfo {
  id: string;
  state: ReplicaState;
  port: number;
  url: string;
  /** Starts since the lab began: each one threw the replica's memory away. */
  generation: number;
}

/** The proxy's tuning that the lab may leave to proxy-core's defaults: health probes, replay, limits, metrics. */
type Tuning = 'maxInitialize' | 'healthIntervalMs' | 'healthTimeoutMs' | 'unhealthyAfter' | 'replayInFlight' | 'upstreamTimeoutMs' | 'metricsPort';

/** What every replica shares; per-replica id and port are the set's business. */
export type ReplicaTemplate = Omit<ProxyConfig, 'port' | 'host' | 'replicaId' | 'logFormat' | Tuning> & Partial<Pick<ProxyConfig, Tuning>>;

interface Replica {
  info: ReplicaInfo;
  running: RunningProxy | null;
  unsubscribe: (() => void) | null;
}

/**
 * N proxy-core replicas in this process, each with its own port, store connection and
 * memory. Restarting one closes it — memory gone, connections cut — and starts a new one on
 * the same port, as a crashed pod's replacement would.
 */
export class ReplicaSet {
  private readonly replicas = new Map<string, Replica>();
  private readonly template: ReplicaTemplate;
  private readonly onEvent: (event: ProxyEvent) => void;
  private readonly log: (message: string) => void;
  private next = 1;

  constructor(template: ReplicaTemplate, onEvent: (event: ProxyEvent) => void, log: (message: string) => void) {
    this.template = { ...template };
    this.onEvent = onEvent;
    this.log = log;
  }

  /**
   * Adds replicas until there are `count`, or removes the newest ones — each first taken
   * out of the live set and drained, as `restart` does. Returns what was added and removed.
   */
  async scale(count: number, drain?: (id: string) => Promise<unknown>): Promise<{ added: ReplicaInfo[]; removed: string[] }> {
    const added: ReplicaInfo[] = [];
    while (this.replicas.size < count) added.push(await this.add());
    const removed = [...this.replicas.keys()].slice(count);
    for (const id of removed) {
      const replica = this.replicas.get(id)!;
      replica.info.state = 'restarting';
      await drain?.(id);
      await this.stop(replica);
      this.replicas.delete(id);
    }
    return { added, removed };
  }

  /**
   * Restarts a replica. `drain` runs once it no longer counts as live (the ingress stops
   * sending it new requests) and before it is closed, to let requests under way finish.
   */
  async restart(id: string, drain?: () => Promise<unknown>): Promise<ReplicaInfo> {
    const replica = this.get(id);
    replica.info.state = 'restarting';
    await drain?.();
    await this.stop(replica);
    await this.run(replica);
    return { ...replica.info };
  }

  async kill(id: string): Promise<void> {
    const replica = this.get(id);
    await this.stop(replica);
    replica.info.state = 'down';
  }

  async start(id: string): Promise<ReplicaInfo> {
    const replica = this.get(id);
    if (replica.info.state !== 'running') await this.run(replica);
    return { ...replica.info };
  }

  /** The service's endpoints changed: every replica gets the new list (kept for restarts). */
  setBackends(urls: string[]): void {
    this.template.backends = urls;
    for (const replica of this.replicas.values()) replica.running?.proxy.setBackends(urls);
  }

  /** Live switches: pinning for new sessions, recovery, unknown-session status. */
  configure(settings: Partial<Pick<ReplicaTemplate, 'pinning' | 'recovery' | 'unknownSessionStatus'>>): void {
    Object.assign(this.template, settings);
    for (const replica of this.replicas.values()) replica.running?.proxy.configure(settings);
  }

  /** Removes a session's record from every running replica's store, as its TTL running out would. */
  async forgetSession(sessionId: string): Promise<void> {
    await Promise.all([...this.replicas.values()].map((r) => r.running?.proxy.store.delete(sessionId)));
  }

  /** The store replicas open from their next start on (a running proxy cannot change stores). */
  setStore(store: ReplicaTemplate['store'], redisUrl: string): void {
    this.template.store = store;
    this.template.redisUrl = redisUrl;
  }

  list(): ReplicaInfo[] {
    return [...this.replicas.values()].map((r) => ({ ...r.info }));
  }

  /** Replicas that take requests now. */
  live(): ReplicaInfo[] {
    return this.list().filter((r) => r.state === 'running');
  }

  async close(): Promise<void> {
    await Promise.all([...this.replicas.values()].map((r) => this.stop(r)));
    this.replicas.clear();
  }

  private async add(): Promise<ReplicaInfo> {
    const id = `replica-${this.next++}`;
    const port = await freePort();
    const replica: Replica = { info: { id, state: 'down', port, url: `http://127.0.0.1:${port}/mcp`, generation: 0 }, running: null, unsubscribe: null };
    this.replicas.set(id, replica);
    await this.run(replica);
    return { ...replica.info };
  }

  private async run(replica: Replica): Promise<void> {
    const events = new ProxyEvents();
    replica.unsubscribe = events.onAny(this.onEvent);
    replica.running = await startProxy(
      { ...DEFAULTS, ...this.template, port: replica.info.port, host: '127.0.0.1', replicaId: replica.info.id, logFormat: 'text' },
      (level, message, fields) => level !== 'info' && !isEventLine(fields) && this.log(`${replica.info.id}: ${message}`),
      events,
    );
    replica.info.state = 'running';
    replica.info.generation++;
  }

  private async stop(replica: Replica): Promise<void> {
    const running = replica.running;
    replica.running = null;
    if (replica.info.state === 'running') replica.info.state = 'down';
    await running?.close();
    replica.unsubscribe?.();
    replica.unsubscribe = null;
  }

  private get(id: string): Replica {
    const replica = this.replicas.get(id);
    if (!replica) throw new Error(`no replica named ${id} (replicas: ${[...this.replicas.keys()].join(', ')})`);
    return replica;
  }
}

/**
 * proxy-core logs its lifecycle events too (`pod.health`, `inflight.ended`…): the event's
 * name as the message, its fields beside — every event's `replicaId` among them. The lab has
 * the events themselves, told in full by app/shared/describe.ts in the timeline and reports:
 * such a line, the bare name, would only say the same thing worse.
 */
function isEventLine(fields: Record<string, unknown> | undefined): boolean {
  return fields !== undefined && 'replicaId' in fields;
}
