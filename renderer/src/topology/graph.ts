import type { LabStatus } from '../../../app/api/contract.ts';
import type { PinningKind, StoreKind } from '../../../app/config.ts';
import type { LabSnapshot, PodView, ReplicaView, SessionView } from '../../../app/state/snapshot.ts';
import { addressOfUrl, byNumber, podNameAt } from '../../../app/shared/names.ts';

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
  links: LinkEdge[];
}

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
}

/** An external client's session idle this long is no longer drawn. */
export const EXTERNAL_IDLE_MS = 60_000;
/** Requests a handshake takes (initialize, notifications/initialized): a session that made no more was never used. */
const HANDSHAKE_REQUESTS = 2;

/** The topology as data: nodes and edges from the snapshot and status alone. */
export function buildGraph(snapshot: LabSnapshot, status: GraphStatus | null, options: GraphOptions = {}): TopologyGraph {
  const { keepDeadPods = 2, maxExternal = 20 } = options;
  const live = liveSessions(snapshot.sessions, { maxExternal, seen: options.seen, now: options.now });

  // Scaling the replicas emits no event: the status's list is the set; events say how each one is.
  const replicaIds = (status ? status.replicas.map((r) => r.id) : Object.keys(snapshot.replicas)).sort(byNumber);
  const replicaView = (id: string): ReplicaView => {
    const known = status?.replicas.find((r) => r.id === id);
    return snapshot.replicas[id] ?? { id, state: known?.state ?? 'down', reason: '', requests: 0 };
  };
  const sessions: SessionEdge[] = live.map((session) => {
    const pinsService = options.pinning?.get(session.id) === 'service';
    const pod = pinsService ? undefined : podNameAt(snapshot.pods, session.pod);
    return {
      id: session.id,
      client: clientKey(session),
      replica: session.lastReplica && replicaIds.includes(session.lastReplica) ? session.lastReplica : null,
      pod: pod ?? null,
      broken: pod === undefined ? null : brokenPod(snapshot.pods[pod]!),
      hue: hueOf(clientKey(session)),
    };
  });

  const pinnedTo = new Set(sessions.map((s) => s.pod));
  const { pods, hidden } = visiblePods(snapshot.pods, pinnedTo, keepDeadPods, snapshot.endpoints);

  const perReplica = new Map<string, number>();
  for (const s of sessions) if (s.replica) perReplica.set(s.replica, (perReplica.get(s.replica) ?? 0) + 1);
  const replicas: ReplicaNode[] = replicaIds.map((id) => ({
    ...replicaView(id),
    address: addressOf(status?.replicas.find((r) => r.id === id)?.url),
    sessions: perReplica.get(id) ?? 0,
  }));

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
    links,
  };
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
  const newest = new Map<string, SessionView>();
  const external: SessionView[] = [];
  // Records keep insertion order: sessions are listed as they were created.
  for (const session of Object.values(sessions)) {
    if (session.deleted) continue;
    if (session.client) newest.set(session.client, session);
    else if (session.requests > HANDSHAKE_REQUESTS && (!seen || now - (seen.get(session.id) ?? -Infinity) <= EXTERNAL_IDLE_MS)) external.push(session);
  }
  return [...newest.values(), ...external.slice(Math.max(0, external.length - maxExternal))];
}

function clientKey(session: SessionView): string {
  return session.client ?? `external:${session.id}`;
}

function clientsOf(sessions: readonly SessionView[]): ClientNode[] {
  const seen = new Map<string, ClientNode>();
  for (const session of sessions) {
    const id = clientKey(session);
    if (!seen.has(id)) seen.set(id, { id, label: session.client ?? 'external', external: !session.client });
  }
  return [...seen.values()].sort((a, b) => Number(a.external) - Number(b.external) || byNumber(a.id, b.id));
}

function visiblePods(all: Record<string, PodView>, pinnedTo: ReadonlySet<string | null>, keepDead: number, endpoints: readonly string[]) {
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
      return { ...pod, inService };
    });
  return { pods, hidden: dead.length - shownDead.size };
}

function addressOf(url: string | undefined): string | null {
  return url ? addressOfUrl(url) : null;
}

/**
 * A stable colour per client: `client-N` by the golden angle (neighbours far apart on the
 * wheel), anything else by a hash of its id.
 */
export function hueOf(id: string): number {
  const n = /^client-(\d+)$/.exec(id)?.[1];
  if (n !== undefined) return Math.round((Number(n) * 137.508) % 360);
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return (hash >>> 0) % 360;
}
