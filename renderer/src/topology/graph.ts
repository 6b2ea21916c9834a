import type { LabStatus } from '../../../app/api/contract.ts';
import type { PinningKind, StoreKind } from '../../../app/config.ts';
import { newestOfClients } from '../../../app/state/reducer.ts';
import type { LabSnapshot, PodView, ReplicaView, SessionView } from '../../../app/state/snapshot.ts';
import { addressOfUrl, byNumber, podNameAt } from '../../../app/shared/names.ts';
import { pileUpLine, pileUpOf } from '../../../app/shared/pile-up.ts';

/** What the topology needs of the lab's status (null when it is not known). */
export type GraphStatus = Pick<LabStatus, 'ingressUrl' | 'replicas'> & {
  config: Pick<LabStatus['config'], 'store' | 'pinning' | 'affinity' | 'redisUrl'>;
};

export interface ClientNode {
  id: string;
  label: string;
  /** An MCP client that is not one of the lab's (MCP Inspector, an agent). */
  external: boolean;
}

export interface ReplicaNode extends ReplicaView {
  address: string | null;
  /** Sessions whose last request went through it. */
  sessions: number;
}

export interface PodNode extends PodView {
  /** Listed by the service: new sessions may land on it. */
  inService: boolean;
  /** It carries most of the sessions (or modern requests) while other pods idle: what, in words; null when not. */
  pileUp: string | null;
}

export interface StoreNode {
  kind: StoreKind | 'unknown';
  up: boolean | null;
  reason: string;
  /** Session records in Redis at the last count; null when not counted. */
  keys: number | null;
  /** A Redis the lab was pointed at, not its own: the lab will not stop, start or flush it. */
  external: boolean;
}

export interface ServiceNode {
  endpoints: number;
  pinning: PinningKind | null;
}

export interface IngressNode {
  address: string | null;
  affinity: string | null;
}

/** One client session: a line client → ingress → last replica → pinned pod (or the service). */
export interface SessionEdge {
  id: string;
  client: string;
  /** Replica node id, null when that replica is gone. */
  replica: string | null;
  /** Pod node id, or null when the record pins the service (or an address no pod has). */
  pod: string | null;
  /**
   * Pinned to a pod that is dead, or that replicas mark unhealthy (it stopped answering its
   * probes): its next request will move it. Null when it is not.
   */
  broken: 'dead' | 'unhealthy' | null;
  hue: number;
}

/**
 * Many sessions drawn as one line: those whose last request went through one replica and
 * that are pinned to one pod (or the service). Used beyond BUNDLE_ABOVE sessions.
 */
export interface BundleEdge {
  /** `<replica>><pod>`, `-` for none. */
  id: string;
  replica: string | null;
  pod: string | null;
  sessions: number;
  /** Some of its sessions are pinned to a dead or unhealthy pod (all of them, as they share the pod). */
  broken: SessionEdge['broken'];
}

/**
 * Requests without a session (2026-07-28 traffic, or a stateless server) that went from one
 * replica to one pod lately: the service spreads them, nothing pins them, so they are drawn
 * as a fan from the replica over the pods it used, weighted by how many each got.
 */
export interface FanEdge {
  id: string;
  replica: string;
  /** Pod node id; null when the pod is not one the topology shows. */
  pod: string | null;
  /** Recent requests (a count that fades with time). */
  weight: number;
  /** This pod's part of the replica's recent sessionless requests, 0 … 1. */
  share: number;
}

/** Sessionless requests lately through one replica to one pod (by address), as counted by the activity. */
export interface SessionlessFlow {
  replica: string;
  pod: string | null;
  weight: number;
}

/** A link between infrastructure nodes (not a session). */
export interface LinkEdge {
  id: string;
  kind: 'ingress-replica' | 'replica-store' | 'service-pod';
  from: string;
  to: string;
  up: boolean;
}

export interface TopologyGraph {
  clients: ClientNode[];
  ingress: IngressNode;
  replicas: ReplicaNode[];
  store: StoreNode;
  service: ServiceNode;
  pods: PodNode[];
  /** Dead pods left out of the drawing (only the newest few are kept). */
  hiddenDeadPods: number;
  sessions: SessionEdge[];
  /** Beyond BUNDLE_ABOVE sessions: the sessions bundled per replica → pod (else empty, one line each). */
  bundles: BundleEdge[];
  fans: FanEdge[];
  links: LinkEdge[];
}

/** Past this many sessions, one line each is a blur that costs frames: lines are bundled per replica → pod. */
export const BUNDLE_ABOVE = 300;

export interface GraphOptions {
  /** What each session's record pins; sessions not in it pin a pod. */
  pinning?: ReadonlyMap<string, PinningKind>;
  /** How many dead pods stay on screen (besides any a session is still pinned to). */
  keepDeadPods?: number;
  /** At most this many external clients' sessions are drawn (the newest). */
  maxExternal?: number;
  /**
   * When each session last had a request routed (epoch ms), and the time now: a session no
   * simulated client claims is drawn only while in use (see `liveSessions`).
   */
  seen?: ReadonlyMap<string, number>;
  now?: number;
  /** Sessionless requests lately, per replica → pod: drawn as fans. */
  sessionless?: readonly SessionlessFlow[];
  /** Bundle lines past this many sessions (default BUNDLE_ABOVE). */
  bundleAbove?: number;
}

/** An external client's session idle this long is no longer drawn. */
export const EXTERNAL_IDLE_MS = 60_000;
/** Requests a handshake takes (initialize, notifications/initialized): a session that made no more was never used. */
const HANDSHAKE_REQUESTS = 2;

/** The topology as data: nodes and edges from the snapshot and status alone. */
export function buildGraph(snapshot: LabSnapshot, status: GraphStatus | null, options: GraphOptions = {}): TopologyGraph {
  const { keepDeadPods = 2, maxExternal = 20, bundleAbove = BUNDLE_ABOVE } = options;
  const live = liveSessions(snapshot.sessions, { maxExternal, seen: options.seen, now: options.now });

  // Scaling the replicas emits no event: the status's list is the set; events say how each one is.
  const replicaIds = (status ? status.replicas.map((r) => r.id) : Object.keys(snapshot.replicas)).sort(byNumber);
  const replicaView = (id: string): ReplicaView => {
    const known = status?.replicas.find((r) => r.id === id);
    return snapshot.replicas[id] ?? { id, state: known?.state ?? 'down', reason: '', requests: 0 };
  };
  // Indexed once per snapshot: a few pods, a thousand sessions.
  const knownReplicas = new Set(replicaIds);
  const podNames = new Map<string | null, string | undefined>();
  const podOf = (address: string | null) => {
    if (!podNames.has(address)) podNames.set(address, podNameAt(snapshot.pods, address));
    return podNames.get(address);
  };
  const sessions: SessionEdge[] = live.map((session) => {
    const pinsService = options.pinning?.get(session.id) === 'service';
    const pod = pinsService ? undefined : podOf(session.pod);
    const client = clientKey(session);
    return {
      id: session.id,
      client,
      replica: session.lastReplica && knownReplicas.has(session.lastReplica) ? session.lastReplica : null,
      pod: pod ?? null,
      broken: pod === undefined ? null : brokenPod(snapshot.pods[pod]!),
      hue: hueOf(client),
    };
  });

  const pinnedTo = new Set(sessions.map((s) => s.pod));
  const pileUp = pileUpOf(snapshot);
  const { pods, hidden } = visiblePods(snapshot.pods, pinnedTo, keepDeadPods, snapshot.endpoints, pileUp && { pod: pileUp.pod, line: pileUpLine(pileUp) });

  const perReplica = new Map<string, number>();
  for (const s of sessions) if (s.replica) perReplica.set(s.replica, (perReplica.get(s.replica) ?? 0) + 1);
  const replicas: ReplicaNode[] = replicaIds.map((id) => replicaNode(replicaView(id), addressOf(status?.replicas.find((r) => r.id === id)?.url), perReplica.get(id) ?? 0));

  const external = Boolean(status?.config.redisUrl);
  const store: StoreNode = {
    kind: status ? status.config.store : snapshot.redis.up === null ? 'unknown' : 'redis',
    // The lab reports no up/down for a Redis it does not run; a key count that succeeded says it answers.
    up: snapshot.redis.up ?? (external && snapshot.redis.keys !== null ? true : null),
    reason: snapshot.redis.reason,
    keys: snapshot.redis.keys,
    external,
  };

  const links: LinkEdge[] = [];
  for (const replica of replicas) {
    links.push({ id: `ingress>${replica.id}`, kind: 'ingress-replica', from: 'ingress', to: replica.id, up: replica.state === 'running' });
    if (store.kind === 'redis') {
      links.push({ id: `${replica.id}>store`, kind: 'replica-store', from: replica.id, to: 'store', up: replica.state === 'running' && store.up === true });
    }
  }
  for (const pod of pods) if (pod.inService) links.push({ id: `service>${pod.name}`, kind: 'service-pod', from: 'service', to: pod.name, up: pod.state === 'ready' });

  return {
    clients: clientsOf(live),
    ingress: { address: addressOf(status?.ingressUrl), affinity: status?.config.affinity ?? null },
    replicas,
    store,
    service: { endpoints: pods.filter((p) => p.inService).length, pinning: status?.config.pinning ?? null },
    pods,
    hiddenDeadPods: hidden,
    sessions,
    bundles: sessions.length > bundleAbove ? bundlesOf(sessions) : [],
    fans: fansOf(options.sessionless ?? [], podOf, knownReplicas),
    links,
  };
}

/** The bundle a session is drawn in, bundled. */
export function bundleId(session: Pick<SessionEdge, 'replica' | 'pod'>): string {
  return `${session.replica ?? '-'}>${session.pod ?? '-'}`;
}

function bundlesOf(sessions: readonly SessionEdge[]): BundleEdge[] {
  const bundles = new Map<string, BundleEdge>();
  for (const s of sessions) {
    const id = bundleId(s);
    const bundle = bundles.get(id);
    if (bundle) bundle.sessions++;
    else bundles.set(id, { id, replica: s.replica, pod: s.pod, sessions: 1, broken: s.broken });
  }
  return [...bundles.values()];
}

function fansOf(flows: readonly SessionlessFlow[], podOf: (address: string | null) => string | undefined, replicas: ReadonlySet<string>): FanEdge[] {
  const fans = new Map<string, FanEdge>();
  const perReplica = new Map<string, number>();
  for (const flow of flows) {
    if (!replicas.has(flow.replica)) continue;
    const pod = podOf(flow.pod) ?? null;
    const id = `${flow.replica}>${pod ?? '-'}`;
    const fan = fans.get(id) ?? { id, replica: flow.replica, pod, weight: 0, share: 0 };
    fan.weight += flow.weight;
    fans.set(id, fan);
    perReplica.set(flow.replica, (perReplica.get(flow.replica) ?? 0) + flow.weight);
  }
  for (const fan of fans.values()) fan.share = fan.weight / perReplica.get(fan.replica)!;
  return [...fans.values()];
}

function brokenPod(pod: PodView): SessionEdge['broken'] {
  if (pod.state === 'dead') return 'dead';
  return Object.keys(pod.unhealthy).length > 0 ? 'unhealthy' : null;
}

/**
 * The sessions worth drawing: not deleted, and for each of the lab's clients only its newest
 * (a client told its session is gone starts another and never uses the old one again). A
 * session no simulated client claims is an external client's, or one a simulated client
 * opened but could not use (its handshake failed): drawn only once it went past the
 * handshake, and, when `seen` is given, while it is in use.
 */
export function liveSessions(
  sessions: Record<string, SessionView>,
  options: { maxExternal?: number; seen?: ReadonlyMap<string, number>; now?: number } = {},
): SessionView[] {
  const { maxExternal = Infinity, seen, now = Date.now() } = options;
  // In the order clients were first seen, each with its newest session.
  const newest = newestOfClients(sessions);
  const external: SessionView[] = [];
  for (const session of Object.values(sessions)) {
    if (session.client || session.deleted) continue;
    if (session.requests > HANDSHAKE_REQUESTS && (!seen || now - (seen.get(session.id) ?? -Infinity) <= EXTERNAL_IDLE_MS)) external.push(session);
  }
  return [...[...newest.values()].map((id) => sessions[id]!), ...external.slice(Math.max(0, external.length - maxExternal))];
}

function clientKey(session: SessionView): string {
  return session.client ?? `external:${session.id}`;
}

/** The last list of clients made, by the ids it was made from: a thousand clients are not sorted again on every frame. */
let lastClients: { from: string; clients: ClientNode[] } = { from: '', clients: [] };

function clientsOf(sessions: readonly SessionView[]): ClientNode[] {
  const seen = new Map<string, ClientNode>();
  for (const session of sessions) {
    const id = clientKey(session);
    if (!seen.has(id)) seen.set(id, { id, label: session.client ?? 'external', external: !session.client });
  }
  const from = [...seen.keys()].join('\n');
  if (from !== lastClients.from) {
    lastClients = { from, clients: [...seen.values()].sort((a, b) => Number(a.external) - Number(b.external) || byNumber(a.id, b.id)) };
  }
  return lastClients.clients;
}

function visiblePods(all: Record<string, PodView>, pinnedTo: ReadonlySet<string | null>, keepDead: number, endpoints: readonly string[], pileUp: { pod: string; line: string } | null) {
  const names = Object.keys(all).sort(byNumber);
  const dead = names.filter((name) => all[name]!.state === 'dead' && !pinnedTo.has(name));
  const shownDead = new Set(dead.slice(Math.max(0, dead.length - keepDead)));
  const listed = new Set(endpoints.map(addressOfUrl));
  const pods = names
    .filter((name) => all[name]!.state !== 'dead' || pinnedTo.has(name) || shownDead.has(name))
    .map((name) => {
      const pod = all[name]!;
      // Before the first endpoints event the service lists every pod that has started, as the lab's does: a
      // paused one too (the replicas' health probes, not the service, keep new sessions off it).
      const inService = pod.state !== 'dead' && (endpoints.length ? pod.address !== null && listed.has(pod.address) : pod.state !== 'starting');
      return podNode(pod, inService, pileUp?.pod === name ? pileUp.line : null);
    });
  return { pods, hidden: dead.length - shownDead.size };
}

// The node made last time from the same view with the same extras, so that memoized cards skip.
const podNodes = new WeakMap<PodView, PodNode>();
const replicaNodes = new WeakMap<ReplicaView, ReplicaNode>();

function podNode(pod: PodView, inService: boolean, pileUp: string | null): PodNode {
  const known = podNodes.get(pod);
  if (known?.inService === inService && known.pileUp === pileUp) return known;
  const node = { ...pod, inService, pileUp };
  podNodes.set(pod, node);
  return node;
}

function replicaNode(replica: ReplicaView, address: string | null, sessions: number): ReplicaNode {
  const known = replicaNodes.get(replica);
  if (known?.address === address && known.sessions === sessions) return known;
  const node = { ...replica, address, sessions };
  replicaNodes.set(replica, node);
  return node;
}

function addressOf(url: string | undefined): string | null {
  return url ? addressOfUrl(url) : null;
}

/**
 * A stable colour per client: `client-N` by the golden angle (neighbours far apart on the
 * wheel), anything else by a hash of its id.
 */
export function hueOf(id: string): number {
  let hue = hues.get(id);
  if (hue === undefined) {
    if (hues.size >= MAX_HUES) hues.clear();
    hues.set(id, (hue = hueFor(id)));
  }
  return hue;
}

/** Hues already worked out, by client id (bounded: external clients come and go). */
const hues = new Map<string, number>();
const MAX_HUES = 10_000;

function hueFor(id: string): number {
  const n = /^client-(\d+)$/.exec(id)?.[1];
  if (n !== undefined) return Math.round((Number(n) * 137.508) % 360);
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return (hash >>> 0) % 360;
}
