import type { PodNode, SessionEdge, TopologyGraph } from './graph.ts';

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
  /** SVG path data per session id; every path has the same commands, so a change can be animated. */
  sessionPaths: Map<string, string>;
  links: Map<string, string>;
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

  const clients = new Map<string, Point>();
  const clientStep = clientLabels ? CLIENT_ROW : (lanesH - 16) / Math.max(1, graph.clients.length);
  const clientTop = lanes.y + (lanesH - clientStep * graph.clients.length) / 2 + clientStep / 2;
  graph.clients.forEach((client, i) => clients.set(client.id, { x: clientsCol.x + clientsCol.w - 6, y: clientTop + i * clientStep }));

  const ingressH = Math.min(lanesH - 16, Math.max(80, graph.sessions.length * 2 + 40, lanesH * 0.55));
  const ingress: Box = { x: ingressCol.x, y: lanes.y + (lanesH - ingressH) / 2, w: ingressCol.w, h: ingressH };
  const replicas = stack(graph.replicas.map((r) => r.id), graph.replicas.map(() => CARD[density]), GAP[density], replicasCol, lanes, 0);
  const pods = stack(graph.pods.map((p) => p.name), podHeights, GAP[density], podsCol, lanes, noteH);
  const last = graph.pods.length ? pods.get(graph.pods[graph.pods.length - 1]!.name)! : null;
  const hiddenNote = graph.hiddenDeadPods ? { x: podsCol.x + 4, y: (last ? last.y + last.h : lanes.y) + 14 } : null;

  const layout: TopologyLayout = {
    width: w, height, density, lanes, clients, clientLabels, ingress, replicas, pods, store, service, storeBand, serviceBand, hiddenNote,
    columns: { clients: clientsCol, ingress: ingressCol, replicas: replicasCol, store: storeCol, service: serviceCol, pods: podsCol },
    sessionPaths: new Map(), links: new Map(),
  };
  layout.sessionPaths = sessionPaths(graph, layout);
  layout.links = linkPaths(graph, layout);
  return layout;
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

/**
 * One path per session: client → ingress → last replica → pod. Where a line meets a card, its
 * place on the card's edge is ordered by where it comes from and goes to, so lines fan out
 * instead of crossing.
 */
function sessionPaths(graph: TopologyGraph, layout: TopologyLayout): Map<string, string> {
  const clientIndex = new Map(graph.clients.map((c, i) => [c.id, i]));
  const replicaIndex = new Map(graph.replicas.map((r, i) => [r.id, i]));
  const podIndex = new Map(graph.pods.map((p, i) => [p.name, i]));
  const byClient = [...graph.sessions].sort((a, b) => clientIndex.get(a.client)! - clientIndex.get(b.client)!);
  const order = new Map(byClient.map((s, i) => [s.id, i]));
  const replicaRank = (s: SessionEdge) => (s.replica ? replicaIndex.get(s.replica)! : graph.replicas.length / 2);
  const podRank = (s: SessionEdge) => (s.pod ? podIndex.get(s.pod)! : graph.pods.length);
  const then = (rank: (s: SessionEdge) => number) => (a: SessionEdge, b: SessionEdge) => rank(a) - rank(b) || order.get(a.id)! - order.get(b.id)!;

  const at = new Map<string, { ingressIn: number; ingressOut: number; replicaIn: number; replicaOut: number; podIn: number }>();
  for (const s of graph.sessions) at.set(s.id, { ingressIn: 0, ingressOut: 0, replicaIn: 0, replicaOut: 0, podIn: 0 });
  const assign = (sessions: SessionEdge[], box: Box, key: 'ingressIn' | 'ingressOut' | 'replicaIn' | 'replicaOut' | 'podIn') => {
    const ys = slots(box, sessions.length);
    sessions.forEach((s, i) => (at.get(s.id)![key] = ys[i]!));
  };

  assign(byClient, layout.ingress, 'ingressIn');
  assign([...graph.sessions].sort(then(replicaRank)), layout.ingress, 'ingressOut');
  const middle: Box = { x: layout.columns.replicas.x, y: layout.lanes.y + layout.lanes.h / 2, w: layout.columns.replicas.w, h: 0 };
  for (const replica of [...graph.replicas.map((r) => r.id), null]) {
    const through = graph.sessions.filter((s) => s.replica === replica);
    const box = replica ? layout.replicas.get(replica)! : middle;
    assign([...through].sort(then(() => 0)), box, 'replicaIn');
    assign([...through].sort(then(podRank)), box, 'replicaOut');
  }
  const serviceTarget: Box = { ...layout.serviceBand, y: layout.lanes.y + layout.lanes.h * 0.3, h: layout.lanes.h * 0.4 };
  for (const pod of [...graph.pods.map((p) => p.name), null]) {
    const into = graph.sessions.filter((s) => s.pod === pod).sort(then(replicaRank));
    assign(into, pod ? layout.pods.get(pod)! : serviceTarget, 'podIn');
  }

  const paths = new Map<string, string>();
  const ingressOutX = layout.ingress.x + layout.ingress.w;
  const replicasCol = layout.columns.replicas;
  for (const s of graph.sessions) {
    const y = at.get(s.id)!;
    const client = layout.clients.get(s.client)!;
    const podBox = s.pod ? layout.pods.get(s.pod)! : null;
    const end: Point = { x: podBox ? podBox.x : layout.serviceBand.x + layout.serviceBand.w / 2, y: y.podIn };
    paths.set(s.id, [
      `M ${r(client.x + 4)} ${r(client.y)}`,
      curve({ x: client.x + 4, y: client.y }, { x: layout.ingress.x, y: y.ingressIn }),
      `L ${r(ingressOutX)} ${r(y.ingressOut)}`,
      curve({ x: ingressOutX, y: y.ingressOut }, { x: replicasCol.x, y: y.replicaIn }),
      `L ${r(replicasCol.x + replicasCol.w)} ${r(y.replicaOut)}`,
      curve({ x: replicasCol.x + replicasCol.w, y: y.replicaOut }, end),
    ].join(' '));
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
