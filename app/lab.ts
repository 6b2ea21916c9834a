import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkClient, type ClientCheckOptions, type ClientCheckResult, type ClientCheckTarget } from './client-check/check.ts';
import { ClientRegistry } from './client-check/registry.ts';
import { rootPath } from './paths.ts';
import {
  allowedNumbers, labConfigSchema, parseLabConfig, type AffinityPolicy, type ClientsEra, type LabConfig, type LabConfigInput, type PinningKind, type StoreKind,
} from './config.ts';
import type { LabEvent } from './events.ts';
import { HandleLeakDetector } from './handles/leak-detector.ts';
import { Ingress, type IngressObserver } from './ingress/ingress.ts';
import { selectRuntime } from './pods/select.ts';
import type { BackendSpec, PodEvent, PodInfo, PodRuntime } from './pods/runtime.ts';
import { RedisUnavailableError } from './redis/binary.ts';
import { EmbeddedRedis } from './redis/embedded.ts';
import { RedisKeyCounter } from './redis/key-count.ts';
import { ReplicaSet, type ReplicaInfo } from './replicas/replica-set.ts';
import { brokenComboLine, brokenCombosOf, type BrokenCombo } from './shared/broken-combos.ts';
import { identifyServer, unidentified } from './server/identify.ts';
import { checkToolCall, type ToolCall } from './server/tool-args.ts';
import type { ServerUnderTest } from './server/under-test.ts';
import { Traffic, type RunningTraffic, type TrafficOptions } from './traffic/traffic.ts';
import { DEFAULTS } from '../proxy-core/index.ts';

export interface LabOptions {
  onEvent?: (event: LabEvent) => void;
}

/**
 * How long a replica being restarted or scaled away gets to finish the requests it has under
 * way (the ingress sends it no new ones): the proxy's own `--shutdown-timeout`, as Kubernetes'
 * default grace period — a call that waits on a hung pod's health verdict and then the
 * session's recovery elsewhere can take seconds on a loaded machine, and cutting it fails it.
 */
const REPLICA_DRAIN_MS = DEFAULTS.shutdownTimeoutMs;

/** A new replica or pod count, checked against the lab config's own bounds for it. */
function checkCount(field: 'replicas' | 'pods', count: number): void {
  const schema = labConfigSchema.shape[field];
  if (!schema.unwrap().safeParse(count).success) throw new Error(`${field} must be ${allowedNumbers(schema)}, got ${count}`);
}

/**
 * One lab: embedded Redis, N proxy replicas behind an ingress, M pods behind a service,
 * traffic and chaos. Plain Node: the desktop app, web mode and the CLI all drive this class.
 */
export class Lab {
  /** Every lab of this process that has not stopped: stopped on SIGINT/SIGTERM by the CLIs. */
  static readonly running = new Set<Lab>();
  readonly id: string;
  readonly config: LabConfig;
  /** The known broken combinations already warned of. */
  private warnedCombos = new Set<BrokenCombo['id']>();
  /** Which pod runtime is in use, and why (said plainly in the UI). */
  runtimeNote = '';
  ingressUrl = '';
  /** The server the pods run, as the lab found it at start (filled in by the identity probe). */
  server: ServerUnderTest | null = null;
  /** Which client opened which session (by its `clientInfo`), and each session's pod. */
  readonly clients = new ClientRegistry();
  private readonly onEvent: (event: LabEvent) => void;
  private readonly watchers = new Set<(event: LabEvent) => void>();
  /** Watches the clients' calls for handles minted on one pod and failing on another. */
  private readonly leaks = new HandleLeakDetector();
  /** The Redis the demo's carts live in, with `carts: 'redis'`. */
  private cartsRedisUrl: string | null = null;
  private runtime!: PodRuntime;
  private redis: EmbeddedRedis | null = null;
  /** Counts session records in Redis (embedded or external) while the store is Redis. */
  private keyCounter: RedisKeyCounter | null = null;
  private replicas!: ReplicaSet;
  private ingress!: Ingress;
  private readonly traffic = new Traffic();
  private nextPod = 1;
  /** Pods the lab is restarting in place: their 'dead' is not a loss to replace. */
  private readonly restarting = new Set<string>();
  private stopped = false;
  private readonly cleanups: (() => Promise<unknown> | unknown)[] = [];

  private constructor(config: LabConfig, options: LabOptions) {
    this.id = randomBytes(4).toString('hex');
    this.config = config;
    this.onEvent = options.onEvent ?? (() => {});
  }

  /** Every event from now on, besides the one `onEvent` of the lab's owner; returns what stops it. */
  watch(listener: (event: LabEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Starts a lab; on any failure, whatever was started is stopped again. */
  static async start(input: LabConfigInput, options: LabOptions = {}): Promise<Lab> {
    const lab = new Lab(parseLabConfig(input), options);
    Lab.running.add(lab);
    try {
      await lab.boot();
    } catch (error) {
      await lab.stop();
      throw error;
    }
    return lab;
  }

  private async boot(): Promise<void> {
    const { config } = this;
    const cartsInRedis = config.backend.kind === 'demo' && config.backend.carts === 'redis' && !config.backend.cartsRedisUrl;
    // A container's 127.0.0.1 is its own: only local processes reach the lab's Redis (config.ts refuses `docker`).
    const runtime = cartsInRedis && config.runtime === 'auto' ? 'process' : config.runtime;
    const selected = await selectRuntime(runtime, this.id, (progress) => this.emit({ type: 'image.progress', at: Date.now(), ...progress }));
    this.runtime = selected.runtime;
    this.runtimeNote = runtime === config.runtime ? selected.note : "pods run as local processes: the demo's Redis carts need pods that reach the lab's Redis on 127.0.0.1, which Docker containers cannot";
    this.cleanups.push(() => this.runtime.close());
    this.log('info', selected.note);
    const orphans = await this.runtime.removeOrphans();
    if (orphans > 0) this.log('info', `removed ${orphans} pod(s) left behind by a lab that crashed`);
    const off = this.runtime.onEvent((event) => this.onPodEvent(event));
    this.cleanups.push(off);

    let redisUrl = config.redisUrl ?? '';
    if ((config.store === 'redis' || cartsInRedis) && !config.redisUrl) {
      try {
        redisUrl = await this.startEmbeddedRedis();
      } catch (error) {
        if (!(error instanceof RedisUnavailableError)) throw error;
        if (cartsInRedis) throw new Error(`the demo's Redis carts need a Redis: ${error.message}`, { cause: error });
        // The lab still runs, on the memory store, and says so loudly.
        config.store = 'memory';
        this.log('warn', `${error.message}. This lab runs with the memory store instead: each replica keeps its own sessions.`);
      }
    }

    if (cartsInRedis) this.cartsRedisUrl = redisUrl;
    await Promise.all(Array.from({ length: config.pods }, () => this.startPod()));
    await this.identify();
    if (config.store === 'redis') this.countKeys(redisUrl);

    this.replicas = new ReplicaSet(
      {
        backends: this.endpoints(), store: config.store, redisUrl, keyPrefix: config.keyPrefix, sessionTtl: 1800,
        pinning: config.pinning, recovery: config.recovery, unknownSessionStatus: 404, maxBody: 4 * 1024 * 1024, storeRequired: false, awaitRedis: true,
      },
      (event) => this.emit(event),
      (message) => this.log('warn', message),
    );
    this.cleanups.push(() => this.replicas.close());
    const { added } = await this.replicas.scale(config.replicas);
    for (const replica of added) this.replicaChanged(replica, 'started');

    this.ingress = new Ingress({
      policy: config.affinity,
      targets: () => this.replicas.live().map((r) => ({ id: r.id, origin: `http://127.0.0.1:${r.port}`, generation: r.generation })),
      onClient: (seen) => this.emit({ type: 'client.seen', ...seen }),
    });
    this.ingressUrl = await this.ingress.listen(config.ingressPort, config.ingressHost);
    this.cleanups.push(() => this.ingress.close());
    const carts = this.cartsRedisUrl ? `, the demo's carts in Redis (${this.cartsRedisUrl})` : '';
    this.log('info', `lab ${this.id} ready: ingress ${this.ingressUrl}, ${config.replicas} replica(s), ${config.pods} pod(s), store ${config.store}${carts}`);
    this.warnBrokenCombos();
  }

  /** The known broken combinations the lab runs now (app/shared/broken-combos.ts); empty: none. */
  brokenCombos(): BrokenCombo[] {
    return brokenCombosOf(this.config);
  }

  /** Says, as a warning on the timeline, each known broken combination the lab has just come to run (once, until it is left). */
  private warnBrokenCombos(): void {
    const now = this.brokenCombos();
    for (const combo of now) if (!this.warnedCombos.has(combo.id)) this.log('warn', brokenComboLine(combo));
    this.warnedCombos = new Set(now.map((combo) => combo.id));
  }

  /** Stops everything the lab started: traffic, ingress, replicas, pods, Redis. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    Lab.running.delete(this);
    await this.traffic.stop();
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.log('warn', `while stopping: ${(error as Error).message}`);
      }
    }
  }

  /** Stops every running lab of this process (for signal handlers). */
  static async stopAll(): Promise<void> {
    await Promise.all([...Lab.running].map((lab) => lab.stop()));
  }

  // --- what is running -----------------------------------------------------------------

  pods(): PodInfo[] {
    return this.runtime.list();
  }

  replicaList(): ReplicaInfo[] {
    return this.replicas.list();
  }

  redisUrl(): string | null {
    return this.redis?.url ?? this.config.redisUrl ?? null;
  }

  /** What a bug report should say the lab ran on. */
  async versions(): Promise<Record<string, string>> {
    const read = (...path: string[]) => (JSON.parse(readFileSync(rootPath(...path), 'utf8')) as { version: string }).version;
    return {
      pinlab: read('package.json'),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      '@modelcontextprotocol/sdk': read('node_modules', '@modelcontextprotocol', 'sdk', 'package.json'),
      '@modelcontextprotocol/server': read('node_modules', '@modelcontextprotocol', 'server', 'package.json'),
      '@modelcontextprotocol/client': read('node_modules', '@modelcontextprotocol', 'client', 'package.json'),
      redis: this.redis ? ((await this.redis.version()) ?? 'down') : this.config.store === 'redis' ? 'external' : 'not used (memory store)',
      pods: this.runtimeNote,
    };
  }

  async redisStatus() {
    return this.redis ? this.redis.status() : null;
  }

  // --- traffic -------------------------------------------------------------------------

  get trafficRunning(): boolean {
    return this.traffic.active;
  }

  /** The traffic running now, as started (clients, rate, era); null when none runs. */
  get trafficNow(): RunningTraffic | null {
    return this.traffic.now;
  }

  /**
   * Starts the simulated clients; `call` (else the config's) picks what they call. A call the
   * server cannot take (no such tool, arguments not matching its input schema) throws before
   * any client starts.
   */
  startTraffic(options: Omit<TrafficOptions, 'url' | 'demo'>): void {
    const call = options.call ?? this.config.call;
    if (call) this.checkCall(call);
    const demo = this.config.backend.kind === 'demo';
    const clientsEra = options.clientsEra ?? this.config.clientsEra;
    const modernShare = options.modernShare ?? this.config.modernShare;
    this.traffic.start({ ...options, call, demo, clientsEra, modernShare, url: this.ingressUrl }, (record) => this.emit({ type: 'traffic.call', ...record }));
    const demoCalls = { legacy: 'tools/call counter', modern: 'the cart tools (cart.create, then cart.add and cart.get with its handle)', mix: 'counter (legacy) and the cart tools (modern)' };
    const probes = { legacy: 'ping and tools/list', modern: 'server/discover and tools/list', mix: 'ping (legacy) or server/discover (modern), and tools/list' };
    const what = call ? `tools/call ${call.tool}` : (demo ? demoCalls : probes)[clientsEra];
    const who = clientsEra === 'mix' ? `mixed: ${Math.round(modernShare * 100)}% modern` : clientsEra;
    this.log('info', `traffic: ${options.clients} client(s) (${who}) × ${options.rate} call(s)/s, calling ${what}`);
  }

  /** The era of the traffic running now, or null when none runs. */
  get trafficClientsEra(): ClientsEra | null {
    return this.traffic.now?.clientsEra ?? null;
  }

  async stopTraffic(): Promise<void> {
    if (!this.traffic.active) return;
    await this.traffic.stop();
    this.log('info', 'traffic stopped');
  }

  // --- chaos ---------------------------------------------------------------------------

  async killPod(name: string): Promise<void> {
    await this.runtime.kill(name);
  }

  async restartPod(name: string): Promise<void> {
    this.restarting.add(name);
    try {
      await this.runtime.restart(name);
    } finally {
      this.restarting.delete(name);
    }
    this.scheduleEndpoints();
  }

  pausePod(name: string): Promise<void> {
    return this.runtime.pause(name);
  }

  unpausePod(name: string): Promise<void> {
    return this.runtime.unpause(name);
  }

  async scalePods(count: number): Promise<void> {
    checkCount('pods', count);
    this.config.pods = count;
    const live = this.runtime.list().filter((p) => p.state !== 'dead');
    if (live.length < count) await Promise.all(Array.from({ length: count - live.length }, () => this.startPod()));
    for (const pod of live.slice(count)) await this.runtime.kill(pod.name);
    this.warnBrokenCombos();
  }

  /**
   * Restarts a replica as a rollout would: the ingress stops sending it requests, those
   * under way finish (up to 2 s), then it goes — memory gone, open streams cut — and a new
   * one starts on its port. `killReplica` is the crash, with nothing drained.
   */
  async restartReplica(id: string): Promise<void> {
    this.emit({ type: 'replica.changed', at: Date.now(), replica: id, state: 'restarting', reason: 'draining, then restarting' });
    let cut = 0;
    const info = await this.replicas.restart(id, async () => (cut = await this.ingress.drain(id, REPLICA_DRAIN_MS)));
    this.replicaChanged(info, `restarted: memory gone, streams cut${cut ? `, and ${cut} request(s) still under way after ${REPLICA_DRAIN_MS / 1000} s` : ''}`);
  }

  async killReplica(id: string): Promise<void> {
    await this.replicas.kill(id);
    this.replicaChanged(this.replicas.list().find((r) => r.id === id)!, 'killed');
  }

  async startReplica(id: string): Promise<void> {
    this.replicaChanged(await this.replicas.start(id), 'started');
  }

  async scaleReplicas(count: number): Promise<void> {
    checkCount('replicas', count);
    this.config.replicas = count;
    const { added, removed } = await this.replicas.scale(count, (id) => this.ingress.drain(id, REPLICA_DRAIN_MS));
    for (const replica of added) this.replicaChanged(replica, 'started');
    for (const id of removed) this.emit({ type: 'replica.changed', at: Date.now(), replica: id, state: 'down', reason: 'scaled away' });
    this.warnBrokenCombos();
  }

  async stopRedis(): Promise<void> {
    await this.ownRedis().stop();
    this.emit({ type: 'redis.changed', at: Date.now(), up: false, reason: 'stopped' });
  }

  async startRedis(): Promise<void> {
    await this.ownRedis().start();
    this.emit({ type: 'redis.changed', at: Date.now(), up: true, reason: 'started (empty: no persistence)' });
  }

  async flushRedis(): Promise<number> {
    const removed = await this.ownRedis().flush();
    this.log('info', `flushed ${removed} key(s) from Redis`);
    return removed;
  }

  setAffinity(policy: AffinityPolicy): void {
    this.config.affinity = policy;
    this.ingress.policy = policy;
    this.log('info', `ingress affinity: ${policy}`);
    this.warnBrokenCombos();
  }

  setPinning(pinning: PinningKind): void {
    this.config.pinning = pinning;
    this.replicas.configure({ pinning });
    this.log('info', `pinning: new sessions pin the ${pinning === 'pod' ? 'pod their initialize reached' : 'service address'}`);
    this.warnBrokenCombos();
  }

  setRecovery(recovery: boolean): void {
    this.config.recovery = recovery;
    this.replicas.configure({ recovery });
    this.log('info', `recovery ${recovery ? 'on' : 'off'}`);
  }

  /**
   * Moves the replicas to another session store: each restarts (drained) on it, so every
   * session in the old store is forgotten — what redeploying the proxy with another store does.
   */
  async setStore(store: StoreKind): Promise<void> {
    if (store === this.config.store) return;
    let redisUrl = this.config.redisUrl ?? this.redis?.url ?? '';
    if (store === 'redis' && !redisUrl) redisUrl = await this.startEmbeddedRedis();
    this.config.store = store;
    if (store === 'redis') this.countKeys(redisUrl);
    else await this.stopCountingKeys();
    this.replicas.setStore(store, redisUrl);
    this.log('info', `store: ${store}; restarting the replicas onto it`);
    this.warnBrokenCombos();
    for (const replica of this.replicas.list()) {
      if (replica.state === 'running') await this.restartReplica(replica.id);
    }
  }

  /** Proxy replicas answer an unknown session with this status: 404 per the spec, or 400 as ToolHive does. */
  setUnknownSessionStatus(status: 404 | 400): void {
    this.replicas.configure({ unknownSessionStatus: status });
    this.log('info', `an unknown session is answered ${status}${status === 400 ? ' (ToolHive\'s compatibility switch)' : ''}`);
  }

  // --- client checks -------------------------------------------------------------------

  /** Forgets a session's record in the store(s), as its TTL running out would: its next request gets 404. */
  forgetSession(sessionId: string): Promise<void> {
    return this.replicas.forgetSession(sessionId);
  }

  /** Sees every request through the ingress, from outside its client, until the returned function is called. */
  observeIngress(observer: IngressObserver): () => void {
    return this.ingress.observe(observer);
  }

  cutStreams(sessionId: string): number {
    return this.ingress.cutStreams(sessionId);
  }

  openStreams(sessionId: string): number {
    return this.ingress.openStreams(sessionId);
  }

  /** Aims faults at one client and judges what it does (app/client-check); each verdict is an event. */
  checkClient(target: ClientCheckTarget, options: ClientCheckOptions = {}): Promise<ClientCheckResult> {
    return checkClient(this, target, {
      ...options,
      onProgress: (message) => {
        this.log('info', message);
        options.onProgress?.(message);
      },
      onVerdict: (verdict) => {
        this.emit({ type: 'client.checked', at: verdict.endedAt, ...verdict });
        options.onVerdict?.(verdict);
      },
    });
  }

  // --- internals -----------------------------------------------------------------------

  private emit(event: LabEvent): void {
    // A failed call that leaked a handle says so before anyone counts it (see callOutcome).
    const leak = this.leaks.observe(event);
    if (leak && event.type === 'traffic.call') event.handleLeak = true;
    this.clients.observe(event);
    this.onEvent(event);
    for (const watcher of this.watchers) watcher(event);
    if (leak) this.emit({ type: 'handle.leak', ...leak });
  }

  /**
   * Asks one ready pod, directly, what server it runs (name, version, protocol, sessions,
   * tools). Not being able to is no reason to stop the lab: the event then says why.
   */
  private async identify(): Promise<void> {
    const { backend } = this.config;
    const pod = this.runtime.list().find((p) => p.state === 'ready');
    let server: ServerUnderTest;
    if (!pod) {
      server = unidentified(backend, 'no pod was ready to ask');
    } else {
      const digest = backend.kind === 'image' && this.runtime.imageId ? await this.runtime.imageId(pod.name).catch(() => null) : null;
      server = await identifyServer(pod.url, backend, { digest });
    }
    this.server = server;
    // The event tells the story (app/shared/describe.ts), a failure included: no log line besides.
    this.emit({ type: 'server.identified', at: Date.now(), server });
  }

  private checkCall(call: ToolCall): void {
    const server = this.server;
    if (server && !server.error) return checkToolCall(call, server);
    // Without the server's tool list there is nothing to check against: the calls will tell.
    this.log('warn', `tools/call ${call.tool} is not checked against the server's tools: ${server?.error ?? 'the server under test is not known yet'}`);
  }

  private countKeys(url: string): void {
    if (this.keyCounter || !url) return;
    const counter = new RedisKeyCounter({
      url, prefix: this.config.keyPrefix,
      onCount: (keys) => this.emit({ type: 'redis.keys', at: Date.now(), keys }),
    });
    this.keyCounter = counter;
    this.cleanups.push(() => counter.stop());
    counter.start();
  }

  private async stopCountingKeys(): Promise<void> {
    const counter = this.keyCounter;
    if (!counter) return;
    this.keyCounter = null;
    await counter.stop();
    this.emit({ type: 'redis.keys', at: Date.now(), keys: null });
  }

  private async startPod(): Promise<PodInfo> {
    const name = `pod-${this.nextPod++}`;
    const info = await this.runtime.start(name, this.podBackend());
    this.scheduleEndpoints();
    return info;
  }

  /** What a new pod runs: the configured backend, with the lab's Redis for the demo's Redis carts. */
  private podBackend(): BackendSpec {
    const { backend } = this.config;
    return backend.kind === 'demo' && this.cartsRedisUrl ? { ...backend, cartsRedisUrl: this.cartsRedisUrl } : backend;
  }

  private onPodEvent(event: PodEvent): void {
    const info = this.runtime.list().find((p) => p.name === event.pod);
    this.emit({ type: 'pod.changed', at: event.at, pod: event.pod, state: event.state, address: info?.address ?? null, reason: event.reason });
    if (event.state !== 'dead' || this.restarting.has(event.pod) || this.stopped) return;
    this.scheduleEndpoints();
    // The controller: keep M pods, a replacement at a new address.
    const live = this.runtime.list().filter((p) => p.state !== 'dead').length;
    if (this.config.replacePods && live < this.config.pods) {
      this.startPod().catch((error: Error) => this.log('error', `could not replace ${event.pod}: ${error.message}`));
    }
  }

  /** The service's endpoints reach the replicas after the propagation delay (kube-proxy lag). */
  private scheduleEndpoints(): void {
    const apply = () => {
      if (this.stopped || !this.replicas) return;
      const endpoints = this.endpoints();
      this.replicas.setBackends(endpoints);
      this.emit({ type: 'service.endpoints', at: Date.now(), endpoints });
    };
    if (this.config.propagationDelayMs === 0) apply();
    else setTimeout(apply, this.config.propagationDelayMs).unref();
  }

  private endpoints(): string[] {
    return this.runtime.list().filter((p) => p.state !== 'dead' && p.state !== 'starting').map((p) => p.url);
  }

  private replicaChanged(info: ReplicaInfo, reason: string): void {
    this.emit({ type: 'replica.changed', at: Date.now(), replica: info.id, state: info.state, reason });
  }

  /** Starts the embedded Redis (finding or fetching a redis-server) and answers its URL. */
  private async startEmbeddedRedis(): Promise<string> {
    this.redis = await EmbeddedRedis.start(this.config.keyPrefix, (progress) => {
      if (progress.stage !== 'found') this.log(progress.stage === 'fetching' ? 'warn' : 'info', `Redis: ${progress.message}`);
    });
    this.cleanups.push(() => this.redis?.close());
    this.emit({ type: 'redis.changed', at: Date.now(), up: true, reason: `embedded redis-server on ${this.redis.url}` });
    return this.redis.url;
  }

  private ownRedis(): EmbeddedRedis {
    if (!this.redis) throw new Error(this.config.store === 'memory' ? 'the lab uses the memory store: there is no Redis to break' : 'the lab does not own an external Redis: stop it yourself');
    return this.redis;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.emit({ type: 'lab.log', at: Date.now(), level, message });
  }
}
