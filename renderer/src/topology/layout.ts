import type { BundleEdge, ClientNode, PodNode, SessionEdge, TopologyGraph } from './graph.ts';

export interface Point {
  x: number;
  y: number;
}

export interface Box extends Point {
  w: number;
  h: number;
}

/** `full` cards carry their buttons on a row of their own; `tiny` ones fit everything on one line. */
export type Density = 'full' | 'tiny';

export interface TopologyLayout {
  width: number;
  height: number;
  density: Density;
  /** Each column's horizontal extent, for its heading. */
  columns: Record<'clients' | 'ingress' | 'replicas' | 'store' | 'service' | 'pods', Box>;
  /** Where the lines run (below the headings). */
  lanes: Box;
  clients: Map<string, Point>;
  /** Client dots get labels when there is room for them. */
  clientLabels: boolean;
  ingress: Box;
  replicas: Map<string, Box>;
  pods: Map<string, Box>;
  /** The store's and the service's cards (in the heading row), and the bands below them lines cross. */
  store: Box;
  service: Box;
  storeBand: Box;
  serviceBand: Box;
  hiddenNote: Point | null;
  /**
   * SVG path data per session id; every path has the same commands, so a change can be
   * animated. Empty when the graph bundles its sessions: see `bundlePaths` and `focusPath`.
   */
  sessionPaths: Map<string, string>;
  /** Bundled: where the clients' dots meet the ingress, one shape for them all (null: one line per session). */
  funnel: string | null;
  links: Map<string, string>;
}

/** One bundle's line and how thick it is drawn. */
export interface BundlePath {
  d: string;
  width: number;
  /** Where its count is written: just before the pod (or the service). */
  label: Point;
}

const PAD = 12;
/** Column names on the first line, the store's and the service's cards under theirs, then the lanes. */
const HEADING_H = 28;
const CARDS_H = 56;
const LANE_TOP = HEADING_H + CARDS_H + 10;
const MIN_LANES = 220;
const CARD = { full: 78, tiny: 30 } as const;
/** A full pod card has a row more than a replica's: the calls waiting on it. */
const POD_CARD = { full: 98, tiny: 30 } as const;
/** What a full pod card grows by while replicas mark it unhealthy: two lines saying so. */
const UNHEALTHY_NOTE = 36;
const GAP = { full: 10, tiny: 6 } as const;
const DEAD_CARD = 30;
const CLIENT_ROW = 15;
const MAX_LABELLED_CLIENTS = 30;

/** How tall the drawing of a graph is; its width is the container's. */
export function layoutTopology(graph: TopologyGraph, width: number): TopologyLayout {
  const w = Math.max(width, 960);
  const liveCount = Math.max(graph.pods.filter((p) => p.state !== 'dead').length, graph.replicas.length);
  const density: Density = liveCount > 5 ? 'tiny' : 'full';

  const podHeights = graph.pods.map((p) => podHeight(p, density));
  const noteH = graph.hiddenDeadPods ? 20 : 0;
  const podsNeed = stackHeight(podHeights, GAP[density]) + noteH;
  const replicasNeed = stackHeight(graph.replicas.map(() => CARD[density]), GAP[density]);
  const clientLabels = graph.clients.length <= MAX_LABELLED_CLIENTS;
  const clientsNeed = clientLabels ? graph.clients.length * CLIENT_ROW : 0;
  const lanesH = Math.max(MIN_LANES, podsNeed + 16, replicasNeed + 16, clientsNeed + 16);
  const height = LANE_TOP + lanesH + PAD;
  const lanes: Box = { x: PAD, y: LANE_TOP, w: w - 2 * PAD, h: lanesH };

  const clientsCol: Box = { x: PAD, y: 0, w: 96, h: height };
  const ingressCol: Box = { x: PAD + 146, y: 0, w: 92, h: height };
  const replicasCol: Box = { x: Math.max(ingressCol.x + ingressCol.w + 64, Math.round(w * 0.25)), y: 0, w: 212, h: height };
  const podsCol: Box = { x: w - PAD - 224, y: 0, w: 224, h: height };
  const middleFrom = replicasCol.x + replicasCol.w;
  const middle = podsCol.x - middleFrom;
  const storeCol: Box = { x: Math.round(middleFrom + middle * 0.3 - 100), y: 0, w: 200, h: height };
  const serviceCol: Box = { x: Math.round(middleFrom + middle * 0.72 - 75), y: 0, w: 150, h: height };

  const store: Box = { x: storeCol.x, y: HEADING_H, w: storeCol.w, h: CARDS_H };
  const service: Box = { x: serviceCol.x, y: HEADING_H, w: serviceCol.w, h: CARDS_H };
  const storeBand: Box = { x: storeCol.x + 24, y: LANE_TOP, w: storeCol.w - 48, h: lanesH };
  const serviceBand: Box = { x: serviceCol.x + 24, y: LANE_TOP, w: serviceCol.w - 48, h: lanesH };

  const bundled = graph.bundles.length > 0;
  const clients = bundled ? clientGrid(graph.clients, clientsCol, lanes) : clientColumn(graph.clients, clientsCol, lanes, clientLabels);

  const ingressH = Math.min(lanesH - 16, Math.max(80, graph.sessions.length * 2 + 40, lanesH * 0.55));
  const ingress: Box = { x: ingressCol.x, y: lanes.y + (lanesH - ingressH) / 2, w: ingressCol.w, h: ingressH };
  const replicas = stack(graph.replicas.map((r) => r.id), graph.replicas.map(() => CARD[density]), GAP[density], replicasCol, lanes, 0);
  const pods = stack(graph.pods.map((p) => p.name), podHeights, GAP[density], podsCol, lanes, noteH);
  const last = graph.pods.length ? pods.get(graph.pods[graph.pods.length - 1]!.name)! : null;
  const hiddenNote = graph.hiddenDeadPods ? { x: podsCol.x + 4, y: (last ? last.y + last.h : lanes.y) + 14 } : null;

  const layout: TopologyLayout = {
    width: w, height, density, lanes, clients, clientLabels, ingress, replicas, pods, store, service, storeBand, serviceBand, hiddenNote,
    columns: { clients: clientsCol, ingress: ingressCol, replicas: replicasCol, store: storeCol, service: serviceCol, pods: podsCol },
    sessionPaths: new Map(), funnel: null, links: new Map(),
  };
  if (bundled) layout.funnel = funnel(layout);
  else layout.sessionPaths = sessionPaths(graph, layout);
  layout.links = linkPaths(graph, layout);
  return layout;
}

/**
 * What the layout depends on, as a string: while it stays the same the layout (and every
 * card's box) can be kept. Bundled, the sessions' replicas and pods are left out: only the
 * bundles' paths, drawn apart, follow them.
 */
export function layoutKey(graph: TopologyGraph, width: number): string {
  const parts: (string | number | null)[] = [width, graph.hiddenDeadPods, graph.bundles.length > 0 ? 'bundled' : 'lines'];
  for (const r of graph.replicas) parts.push(r.id);
  for (const p of graph.pods) parts.push(p.name, p.state, Object.keys(p.unhealthy).length);
  for (const c of graph.clients) parts.push(c.id);
  if (graph.bundles.length === 0) for (const s of graph.sessions) parts.push(s.id, s.replica, s.pod);
  return parts.join(' ');
}

/** Labelled clients one under another; more, a column of dots squeezed into the lanes. */
function clientColumn(list: readonly ClientNode[], column: Box, lanes: Box, labelled: boolean): Map<string, Point> {
  const points = new Map<string, Point>();
  const step = labelled ? CLIENT_ROW : (lanes.h - 16) / Math.max(1, list.length);
  const top = lanes.y + (lanes.h - step * list.length) / 2 + step / 2;
  list.forEach((client, i) => points.set(client.id, { x: column.x + column.w - 6, y: top + i * step }));
  return points;
}

/** Bundled, no line leaves a client: the dots fill a block, row by row, so each stays visible (and hoverable). */
function clientGrid(list: readonly ClientNode[], column: Box, lanes: Box): Map<string, Point> {
  const points = new Map<string, Point>();
  const h = lanes.h - 16;
  const cell = Math.min(14, Math.sqrt((column.w * h) / Math.max(1, list.length)));
  const perRow = Math.max(1, Math.floor(column.w / cell));
  const rows = Math.ceil(list.length / perRow);
  const top = lanes.y + (lanes.h - rows * cell) / 2 + cell / 2;
  const right = column.x + column.w - cell / 2;
  list.forEach((client, i) => points.set(client.id, { x: right - (perRow - 1 - (i % perRow)) * cell, y: top + Math.floor(i / perRow) * cell }));
  return points;
}

/** The shape from the block of client dots to the ingress: every session enters there. */
function funnel(layout: TopologyLayout): string {
  const ys = [...layout.clients.values()].map((p) => p.y);
  const top = ys.length ? Math.min(...ys) : layout.lanes.y + layout.lanes.h / 2;
  const bottom = ys.length ? Math.max(...ys) : top;
  const x0 = layout.columns.clients.x + layout.columns.clients.w + 4;
  const { ingress } = layout;
  const mid = (x0 + ingress.x) / 2;
  return `M ${r(x0)} ${r(top)} C ${r(mid)} ${r(top)}, ${r(mid)} ${r(ingress.y + 8)}, ${r(ingress.x)} ${r(ingress.y + 8)}`
    + ` L ${r(ingress.x)} ${r(ingress.y + ingress.h - 8)} C ${r(mid)} ${r(ingress.y + ingress.h - 8)}, ${r(mid)} ${r(bottom)}, ${r(x0)} ${r(bottom)} Z`;
}

function podHeight(pod: PodNode, density: Density): number {
  if (pod.state === 'dead') return DEAD_CARD;
  const unhealthy = density === 'full' && Object.keys(pod.unhealthy).length > 0;
  return POD_CARD[density] + (unhealthy ? UNHEALTHY_NOTE : 0);
}

function stackHeight(heights: readonly number[], gap: number): number {
  return heights.reduce((sum, h) => sum + h, 0) + Math.max(0, heights.length - 1) * gap;
}

/** Cards one under another, centred in the lanes. */
function stack(ids: readonly string[], heights: readonly number[], gap: number, column: Box, lanes: Box, extra: number): Map<string, Box> {
  const boxes = new Map<string, Box>();
  let y = lanes.y + Math.max(8, (lanes.h - stackHeight(heights, gap) - extra) / 2);
  ids.forEach((id, i) => {
    boxes.set(id, { x: column.x, y, w: column.w, h: heights[i]! });
    y += heights[i]! + gap;
  });
  return boxes;
}

/** Evenly spread points along a card's edge, `count` of them, in order. */
export function slots(box: Box, count: number, margin = 8): number[] {
  const inner = Math.max(0, box.h - 2 * margin);
  return Array.from({ length: count }, (_, i) => box.y + margin + ((i + 0.5) * inner) / count);
}

/** Where a line crosses each column: the heights of its ends on the ingress, its replica and its pod. */
interface Crossing {
  ingressIn: number;
  ingressOut: number;
  replicaIn: number;
  replicaOut: number;
  podIn: number;
}

/** Anything drawn from the ingress through a replica to a pod: a session, or a bundle of them. */
type Routed = Pick<SessionEdge, 'id' | 'replica' | 'pod'>;

/**
 * Where each line meets each card, `items` given in the order they enter the ingress. A
 * line's place on a card's edge is ordered by where it comes from and goes to, so lines fan
 * out instead of crossing.
 */
function crossings<T extends Routed>(items: readonly T[], graph: TopologyGraph, layout: TopologyLayout): Map<string, Crossing> {
  const replicaIndex = new Map(graph.replicas.map((r, i) => [r.id, i]));
  const podIndex = new Map(graph.pods.map((p, i) => [p.name, i]));
  const order = new Map(items.map((s, i) => [s.id, i]));
  const replicaRank = (s: T) => (s.replica ? replicaIndex.get(s.replica)! : graph.replicas.length / 2);
  const podRank = (s: T) => (s.pod ? podIndex.get(s.pod)! : graph.pods.length);
  const then = (rank: (s: T) => number) => (a: T, b: T) => rank(a) - rank(b) || order.get(a.id)! - order.get(b.id)!;

  const at = new Map<string, Crossing>();
  for (const s of items) at.set(s.id, { ingressIn: 0, ingressOut: 0, replicaIn: 0, replicaOut: 0, podIn: 0 });
  const assign = (list: readonly T[], box: Box, key: keyof Crossing) => {
    const ys = slots(box, list.length);
    list.forEach((s, i) => (at.get(s.id)![key] = ys[i]!));
  };
  // Grouped once: a thousand sessions are not filtered again for every card.
  const byReplica = groupBy(items, (s) => s.replica);
  const byPod = groupBy(items, (s) => s.pod);

  assign(items, layout.ingress, 'ingressIn');
  assign([...items].sort(then(replicaRank)), layout.ingress, 'ingressOut');
  const middle: Box = { x: layout.columns.replicas.x, y: layout.lanes.y + layout.lanes.h / 2, w: layout.columns.replicas.w, h: 0 };
  for (const replica of [...graph.replicas.map((r) => r.id), null]) {
    const through = byReplica.get(replica) ?? [];
    const box = replica ? layout.replicas.get(replica)! : middle;
    assign(through, box, 'replicaIn');
    assign([...through].sort(then(podRank)), box, 'replicaOut');
  }
  for (const pod of [...graph.pods.map((p) => p.name), null]) {
    assign((byPod.get(pod) ?? []).sort(then(replicaRank)), pod ? layout.pods.get(pod)! : serviceTarget(layout), 'podIn');
  }
  return at;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Where lines to the service (a record that pins it) end: the middle of its band. */
function serviceTarget(layout: TopologyLayout): Box {
  return { ...layout.serviceBand, y: layout.lanes.y + layout.lanes.h * 0.3, h: layout.lanes.h * 0.4 };
}

/** One path per session: client → ingress → last replica → pod. */
function sessionPaths(graph: TopologyGraph, layout: TopologyLayout): Map<string, string> {
  const clientIndex = new Map(graph.clients.map((c, i) => [c.id, i]));
  const byClient = [...graph.sessions].sort((a, b) => clientIndex.get(a.client)! - clientIndex.get(b.client)!);
  const at = crossings(byClient, graph, layout);
  const paths = new Map<string, string>();
  for (const s of graph.sessions) paths.set(s.id, pathOf(layout.clients.get(s.client)!, at.get(s.id)!, s.pod, layout));
  return paths;
}

/** Client (or, for a bundle, the ingress) → ingress → replica → pod: always the same commands, so a change can glide. */
function pathOf(from: Point, y: Crossing, pod: string | null, layout: TopologyLayout): string {
  const ingressOutX = layout.ingress.x + layout.ingress.w;
  const replicasCol = layout.columns.replicas;
  const podBox = pod ? layout.pods.get(pod)! : null;
  const end: Point = { x: podBox ? podBox.x : layout.serviceBand.x + layout.serviceBand.w / 2, y: y.podIn };
  return [
    `M ${r(from.x)} ${r(from.y)}`,
    curve(from, { x: layout.ingress.x, y: y.ingressIn }),
    `L ${r(ingressOutX)} ${r(y.ingressOut)}`,
    curve({ x: ingressOutX, y: y.ingressOut }, { x: replicasCol.x, y: y.replicaIn }),
    `L ${r(replicasCol.x + replicasCol.w)} ${r(y.replicaOut)}`,
    curve({ x: replicasCol.x + replicasCol.w, y: y.replicaOut }, end),
  ].join(' ');
}

/** Bundled: one line per replica → pod, as thick as its share of the sessions, from the ingress on. */
export function bundlePaths(graph: TopologyGraph, layout: TopologyLayout): Map<string, BundlePath> {
  const total = graph.bundles.reduce((sum, b) => sum + b.sessions, 0);
  const byRoute = [...graph.bundles].sort(byRouteOf(graph));
  const at = crossings(byRoute, graph, layout);
  const paths = new Map<string, BundlePath>();
  for (const bundle of graph.bundles) {
    const y = at.get(bundle.id)!;
    const from = { x: layout.ingress.x, y: y.ingressIn };
    const end = bundle.pod ? layout.pods.get(bundle.pod)!.x : layout.serviceBand.x + layout.serviceBand.w / 2;
    paths.set(bundle.id, {
      d: pathOf(from, y, bundle.pod, layout),
      width: r(1.5 + 9 * Math.sqrt(bundle.sessions / Math.max(1, total))),
      label: { x: end - 6, y: y.podIn - 5 },
    });
  }
  return paths;
}

function byRouteOf(graph: TopologyGraph): (a: BundleEdge, b: BundleEdge) => number {
  const rank = new Map<string | null, number>([...graph.replicas.map((r, i) => [r.id, i] as const), ...graph.pods.map((p, i) => [p.name, i] as const)]);
  const of = (id: string | null) => rank.get(id) ?? Infinity;
  return (a, b) => of(a.replica) - of(b.replica) || of(a.pod) - of(b.pod);
}

/** Bundled, one session's own line (selected or hovered): from its client's dot through the middle of each card. */
export function focusPath(session: SessionEdge, layout: TopologyLayout): string {
  const client = layout.clients.get(session.client);
  const mid = (box: Box) => box.y + box.h / 2;
  const ingress = mid(layout.ingress);
  const replica = session.replica ? mid(layout.replicas.get(session.replica)!) : layout.lanes.y + layout.lanes.h / 2;
  const pod = session.pod ? mid(layout.pods.get(session.pod)!) : mid(serviceTarget(layout));
  const from = client ? { x: client.x + 3, y: client.y } : { x: layout.ingress.x, y: ingress };
  return pathOf(from, { ingressIn: ingress, ingressOut: ingress, replicaIn: replica, replicaOut: replica, podIn: pod }, session.pod, layout);
}

/**
 * Sessionless requests: from a replica's lower edge to each pod it sent them to, as thick as
 * that pod's share; they end low on the pod's card, below the pinned lines.
 */
export function fanPaths(graph: TopologyGraph, layout: TopologyLayout): Map<string, BundlePath> {
  const paths = new Map<string, BundlePath>();
  for (const fan of graph.fans) {
    const replica = layout.replicas.get(fan.replica);
    if (!replica) continue;
    const pod = fan.pod ? layout.pods.get(fan.pod) : undefined;
    const from = { x: replica.x + replica.w, y: replica.y + replica.h - 8 };
    const to = pod ? { x: pod.x, y: pod.y + pod.h - 8 } : { x: layout.serviceBand.x + layout.serviceBand.w / 2, y: layout.serviceBand.y + layout.serviceBand.h - 16 };
    paths.set(fan.id, { d: `M ${r(from.x)} ${r(from.y)} ${curve(from, to)}`, width: r(1 + 7 * fan.share), label: { x: to.x - 6, y: to.y - 3 } });
  }
  return paths;
}

function linkPaths(graph: TopologyGraph, layout: TopologyLayout): Map<string, string> {
  const links = new Map<string, string>();
  for (const link of graph.links) {
    if (link.kind === 'ingress-replica') {
      const to = layout.replicas.get(link.to)!;
      const from = { x: layout.ingress.x + layout.ingress.w, y: layout.ingress.y + layout.ingress.h / 2 };
      links.set(link.id, `M ${r(from.x)} ${r(from.y)} ${curve(from, { x: to.x, y: to.y + to.h / 2 })}`);
    } else if (link.kind === 'replica-store') {
      const box = layout.replicas.get(link.from)!;
      const from = { x: box.x + box.w, y: box.y + 12 };
      const to = { x: layout.store.x + 16, y: layout.store.y + layout.store.h };
      links.set(link.id, `M ${r(from.x)} ${r(from.y)} C ${r(to.x)} ${r(from.y)}, ${r(to.x)} ${r(from.y)}, ${r(to.x)} ${r(to.y)}`);
    } else {
      const box = layout.pods.get(link.to)!;
      const from = { x: layout.service.x + layout.service.w - 16, y: layout.service.y + layout.service.h };
      const to = { x: box.x, y: box.y + 12 };
      links.set(link.id, `M ${r(from.x)} ${r(from.y)} C ${r(from.x)} ${r(to.y)}, ${r(from.x)} ${r(to.y)}, ${r(to.x)} ${r(to.y)}`);
    }
  }
  return links;
}

function curve(a: Point, b: Point): string {
  const dx = (b.x - a.x) / 2;
  return `C ${r(a.x + dx)} ${r(a.y)}, ${r(b.x - dx)} ${r(b.y)}, ${r(b.x)} ${r(b.y)}`;
}

function r(n: number): number {
  return Math.round(n * 10) / 10;
}
