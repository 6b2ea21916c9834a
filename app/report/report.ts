import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabConfig } from '../config.ts';
import type { LabEvent } from '../events.ts';
import { verdictLine, verdictOf, type Verdict } from '../scenarios/verdict.ts';
import { sourceOf } from '../server/source.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import { brokenComboLine, brokenCombosOf } from '../shared/broken-combos.ts';
import { EXPLAINED, SLOW_CALL_MS } from '../shared/call-outcome.ts';
import { describe, worthALine } from '../shared/describe.ts';
import { sessionOf } from '../shared/names.ts';
import { pileUpLine } from '../shared/pile-up.ts';
import { reduceAll } from '../state/reducer.ts';
import { emptySnapshot } from '../state/snapshot.ts';

export interface ReportInput {
  title: string;
  config: LabConfig;
  runtimeNote: string;
  versions: Record<string, string>;
  events: readonly LabEvent[];
  /** The server the pods ran; else the `server.identified` event among `events`. */
  server?: ServerUnderTest | null;
}

/** The JSON half of a bug report: everything, machine-readable. */
export interface ReportJson {
  title: string;
  createdAt: string;
  versions: Record<string, string>;
  config: LabConfig;
  runtime: string;
  /** The server under test: how it ran, what it said it is, its tools. */
  server: ServerUnderTest | null;
  verdict: Verdict;
  timeline: TimelineEntry[];
  sessions: SessionTrace[];
}

export interface TimelineEntry {
  /** Milliseconds since the first event. */
  t: number;
  type: LabEvent['type'];
  text: string;
}

export interface SessionTrace {
  sessionId: string;
  client: string | null;
  pod: string | null;
  requests: number;
  reinits: number;
  errors: number;
  steps: TimelineEntry[];
}

export function buildReport(input: ReportInput): { json: ReportJson; markdown: string } {
  const start = input.events[0]?.at ?? Date.now();
  const entry = (event: LabEvent, text: string): TimelineEntry => ({ t: event.at - start, type: event.type, text });
  const timeline: TimelineEntry[] = [];
  const traces = new Map<string, SessionTrace>();
  let callLines = 0;
  for (const event of input.events) {
    const text = worthALine(event, 'report') ? describe(event, 'report').text : null;
    const id = sessionOf(event);
    if (id) {
      let trace = traces.get(id);
      if (!trace) traces.set(id, (trace = { sessionId: id, client: null, pod: null, requests: 0, reinits: 0, errors: 0, steps: [] }));
      if (event.type === 'request.routed') trace.requests++;
      if (event.type === 'traffic.call') {
        trace.client = event.client;
        if (!event.ok) trace.errors++;
      }
      if (text) trace.steps.push(entry(event, text));
    }
    // Failed calls make the story too, but a broken run should not bury it: the first 50.
    if (text && (event.type !== 'traffic.call' || callLines++ < 50)) timeline.push(entry(event, text));
  }
  // A call is stamped when it started but reported when it ended: order by time.
  const byTime = (a: TimelineEntry, b: TimelineEntry) => a.t - b.t;
  timeline.sort(byTime);
  for (const trace of traces.values()) trace.steps.sort(byTime);
  const snapshot = reduceAll(emptySnapshot(), input.events);
  for (const trace of traces.values()) {
    const view = snapshot.sessions[trace.sessionId];
    trace.pod = view?.pod ?? null;
    trace.reinits = view?.reinits ?? 0;
  }
  const server = input.server ?? input.events.find((e) => e.type === 'server.identified')?.server ?? null;
  const json: ReportJson = {
    title: input.title,
    createdAt: new Date().toISOString(),
    versions: input.versions,
    config: input.config,
    runtime: input.runtimeNote,
    server,
    verdict: verdictOf(input.events, { demo: input.config.backend.kind === 'demo' }),
    timeline,
    sessions: [...traces.values()],
  };
  return { json, markdown: markdown(json) };
}

function serverSection(server: ServerUnderTest | null): string[] {
  if (!server) return ['Not recorded.', ''];
  const yesNo = (b: boolean | null) => (b === null ? 'unknown' : b ? 'yes' : 'no (stateless)');
  return [
    `- source: ${server.source}`,
    ...(server.kind === 'image' ? [`- image digest: ${server.digest ?? 'unknown'}`] : []),
    `- name: ${server.name ?? 'unknown'}`,
    `- version: ${server.version ?? 'unknown'}`,
    `- protocol version: ${server.protocolVersion ?? 'unknown'}`,
    `- sessions: ${yesNo(server.sessions)}`,
    `- tools: ${server.tools.length}${server.tools.length ? ` (${server.tools.map((t) => t.name).join(', ')})` : ''}`,
    ...(server.error ? [`- could not be read in full: ${server.error}`] : []),
    '',
  ];
}

function ms(t: number): string {
  return `+${(t / 1000).toFixed(3)} s`;
}

function markdown(report: ReportJson): string {
  const v = report.verdict;
  const c = report.config;
  const lines = [
    `# Pinlab report: ${report.title}`,
    '',
    `Created ${report.createdAt}. ${verdictLine(v)}.`,
    '',
    '## Verdict',
    '',
    `- recoverable errors: ${EXPLAINED.recoverableErrors}`,
    `- outcome unknown: ${EXPLAINED.unknownOutcome}`,
    `- waits > ${SLOW_CALL_MS / 1000} s: ${EXPLAINED.slowCalls}`,
    '',
    `| requests | recoverable errors | outcome unknown | recoveries | state losses | sessionless | modern | handle leaks | waits > ${SLOW_CALL_MS / 1000} s | longest wait ms | p50 ms | p99 ms |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${v.requests} | ${v.recoverableErrors} | ${v.unknownOutcome} | ${v.recoveries} | ${v.stateLosses} | ${v.sessionless} | ${v.modern} | ${v.handleLeaks} | ${v.slowCalls} | ${v.longestWaitMs} | ${v.latencyMs.p50} | ${v.latencyMs.p99} |`,
    '',
    ...(v.pileUp ? [`Pile-up: ${pileUpLine(v.pileUp)}.`, ''] : []),
    ...brokenCombosOf(c).flatMap((combo) => [`Warning: ${brokenComboLine(combo)}`, '']),
    ...(v.errorSamples.length ? ['Errors the clients saw:', '', ...v.errorSamples.map((e) => `- \`${e}\``), ''] : []),
    '## Setup',
    '',
    `- ${c.replicas} proxy replica(s), ${c.pods} pod(s); ${report.runtime}`,
    `- store ${c.store}${c.redisUrl ? ` (${c.redisUrl})` : ''}, pinning ${c.pinning}, recovery ${c.recovery ? 'on' : 'off'}, ingress affinity ${c.affinity}`,
    `- backend: ${sourceOf(c.backend)}, propagation delay ${c.propagationDelayMs} ms, pod replacement ${c.replacePods ? 'on' : 'off'}`,
    '',
    '## Server under test',
    '',
    ...serverSection(report.server),
    '## Versions',
    '',
    ...Object.entries(report.versions).map(([k, val]) => `- ${k}: ${val}`),
    '',
    '## Timeline',
    '',
    '```',
    ...report.timeline.map((e) => `${ms(e.t).padStart(10)}  ${e.text}`),
    '```',
    '',
    '## Sessions',
    '',
    '| session | client | pod now | requests | re-inits | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.sessions.map((s) => `| \`${s.sessionId}\` | ${s.client ?? '—'} | ${s.pod ?? '—'} | ${s.requests} | ${s.reinits} | ${s.errors} |`),
    '',
    ...report.sessions.filter((s) => s.reinits > 0 || s.errors > 0).flatMap((s) => [
      `### Session \`${s.sessionId}\``,
      '',
      '```',
      ...s.steps.map((e) => `${ms(e.t).padStart(10)}  ${e.text}`),
      '```',
      '',
    ]),
    'The JSON file beside this one holds the same, machine-readable.',
    '',
  ];
  return lines.join('\n');
}

/** Writes `<dir>/pinlab-report.md` and `<dir>/pinlab-report.json`; returns their paths. */
export async function writeReport(dir: string, report: { json: ReportJson; markdown: string }): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { markdown: join(dir, 'pinlab-report.md'), json: join(dir, 'pinlab-report.json') };
  await writeFile(paths.markdown, report.markdown);
  await writeFile(paths.json, JSON.stringify(report.json, null, 2) + '\n');
  return paths;
}
