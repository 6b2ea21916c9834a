import type { LabEvent } from '../events.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import type { PodView } from '../state/snapshot.ts';
import { callOutcome } from './call-outcome.ts';
import { verdictLine } from './client-faults.ts';
import { addressOfUrl, podLabel, shortId } from './names.ts';

/**
 * Who a story is told to — the one thing that changes its wording. The screen (the pods it
 * knows, to name addresses by): six characters of a session id, pods by name, whole
 * milliseconds. Or a bug report: whole ids, pod addresses as the proxy recorded them (they
 * match its logs; the `pod.changed` lines say which pod had which), backend session ids,
 * generations, tenths of a millisecond.
 */
export type Audience = Record<string, PodView> | 'report';

export type EventKind = 'sessions' | 'recoveries' | 'pods' | 'replicas' | 'redis' | 'errors' | 'lab';

export interface Story {
  /** What the timeline's filters group it under (an error also counts as its own kind). */
  kinds: EventKind[];
  tone: 'info' | 'good' | 'warn' | 'bad';
  text: string;
}

/**
 * Whether an event is worth a line of a story (the timeline, a session's trace, a report) —
 * the one place that says so. The rest are told as numbers instead.
 */
export function worthALine(event: LabEvent, audience: Audience = {}): boolean {
  switch (event.type) {
    // Counted per session, replica and pod.
    case 'request.routed': return false;
    // The Redis card's count.
    case 'redis.keys': return false;
    // Calls waiting on a pod: numbers on its card.
    case 'inflight.changed': return false;
    // A good call is a number in the verdict and the charts; a failed one, or one that lost state, is news.
    case 'traffic.call': return !event.ok || event.stateLost;
    // The lab's own clients are told by their sessions; a client from outside is news.
    case 'client.seen': return !event.simulated;
    // Build output shows progress while the lab starts; in a report told afterwards it is noise.
    case 'image.progress': return audience !== 'report' || event.stage !== 'build';
    default: return true;
  }
}

type RecoveryCause = Extract<LabEvent, { type: 'recovery.done' }>['cause'];

const CAUSES: Record<RecoveryCause, string> = {
  'connect-refused': 'connect refused',
  'connect-reset': 'connection reset',
  'connect-timeout': 'connect timeout',
  unreachable: 'unreachable',
  'session-lost-404': 'pod answered 404: session lost',
  'session-lost-400': 'pod answered 400: unknown session',
  'session-lost-32001': 'pod answered -32001: session not found',
  'pod-unhealthy': 'pod stopped answering its health probes',
  'pod-left': 'pod left the DNS answer',
};

type InFlightEnded = Extract<LabEvent, { type: 'inflight.ended' }>;

const ENDED: Record<InFlightEnded['reason'], string> = {
  'pod-unhealthy': 'the pod stopped answering its health probes',
  'upstream-timeout': 'no answer within --upstream-timeout',
  'reset-after-write': 'the pod closed the connection after the request was sent',
};

const OUTCOMES: Record<InFlightEnded['outcome'], string> = {
  replayed: 'safe to repeat: replayed on the recovered session',
  retried: 'safe to repeat: sent once more on a fresh connection',
  'unknown-outcome': 'not safe to repeat: answered "may or may not have run" (JSON-RPC -32050)',
  'stream-closed': 'stream closed: the client reconnects',
};

/**
 * Any lab event as one sentence, in the same words wherever it is told; `audience` sets how
 * ids, pods and times are written. Pure: the UI and the report both call it.
 */
export function describe(event: LabEvent, audience: Audience): Story {
  const full = audience === 'report';
  const id = (sessionId: string | null) => (full ? (sessionId ?? '—') : shortId(sessionId));
  const pod = (address: string | null) => (audience === 'report' ? (address ?? '—') : podLabel(audience, address));
  const ms = (durationMs: number) => (full ? `${durationMs.toFixed(1)} ms` : `${Math.round(durationMs)} ms`);
  const lost = (e: { sessionId: string; fromPod: string; cause: RecoveryCause }) =>
    `session ${id(e.sessionId)} lost ${pod(e.fromPod)} (${CAUSES[e.cause] ?? e.cause})`;
  // Exhaustive: an event type without a case here does not compile.
  switch (event.type) {
    case 'request.routed': {
      // A modern request has no session: its method and target say what it was.
      const what = event.era === 'modern' ? `modern ${[event.mcpMethod, event.mcpName].filter(Boolean).join(' ') || 'request'}` : id(event.sessionId);
      return { kinds: ['sessions'], tone: 'info', text: `${event.httpMethod} ${what} via ${event.replicaId} → ${pod(event.pod)}: ${event.status}` };
    }
    case 'session.created':
      return {
        kinds: ['sessions'], tone: 'info',
        text: `session ${id(event.sessionId)} created on ${pod(event.pod)} via ${event.replicaId} (pinning: ${event.pinning}${full ? `, backend session ${event.backendSessionId}` : ''})`,
      };
    case 'session.deleted':
      if (event.podGone) {
        return {
          kinds: ['sessions', 'errors'], tone: 'bad',
          text: `session ${id(event.sessionId)} dropped by ${event.replicaId}: ${pod(event.pod)} is gone (${CAUSES[event.podGone] ?? event.podGone}) and recovery is off → "session not found", the client must start over`,
        };
      }
      return {
        kinds: ['sessions'], tone: 'info',
        text: `session ${id(event.sessionId)} deleted on ${pod(event.pod)} via ${event.replicaId} (${event.podStatus === null ? 'the pod did not answer: gone' : `pod answered ${event.podStatus}`})`,
      };
    case 'session.unknown':
      return { kinds: ['sessions', 'errors'], tone: 'bad', text: `${event.replicaId} does not know session ${id(event.sessionId)} → ${event.status}: the client must start over` };
    case 'recovery.started':
      return { kinds: ['recoveries'], tone: 'warn', text: `${lost(event)} → re-initializing via ${event.replicaId}…` };
    case 'recovery.done': {
      const how = event.reused
        ? `joined another request's re-initialization on ${pod(event.toPod)} in ${ms(event.durationMs)}`
        : `re-initialized on ${pod(event.toPod)} in ${ms(event.durationMs)}${full ? ` (generation ${event.generation})` : ''}`;
      return { kinds: ['recoveries'], tone: 'good', text: `${lost(event)} → ${how} via ${event.replicaId} → replayed` };
    }
    case 'recovery.failed':
      return { kinds: ['recoveries', 'errors'], tone: 'bad', text: `${lost(event)} → re-initialization via ${event.replicaId} failed: ${event.reason}` };
    case 'store.error':
      return { kinds: ['redis', 'errors'], tone: 'bad', text: `${event.replicaId}: session store ${event.operation} failed: ${event.message}` };
    case 'store.restored':
      return { kinds: ['redis'], tone: 'good', text: `${event.replicaId}: session store answers again${event.flushed ? `, ${event.flushed} pending write(s) flushed` : ''}` };
    case 'pod.health':
      return event.health === 'healthy'
        ? { kinds: ['pods'], tone: 'good', text: `${event.replicaId}: ${pod(event.pod)} answers its health probes again (last probe ${event.reason}) → healthy` }
        : {
          kinds: ['pods'], tone: 'bad',
          text: `${event.replicaId}: ${pod(event.pod)} ${event.byRequest
            ? `failed a request's fresh connection (${event.reason})`
            : `stopped answering its health probes (${event.failures} failed, the last: ${event.reason})`} → unhealthy: `
            + 'no new sessions go to it, and its sessions move on their next request',
        };
    case 'inflight.changed': {
      const oldest = event.oldestAt === null ? '' : `, the oldest for ${ms(event.at - event.oldestAt)}`;
      return { kinds: ['pods'], tone: 'info', text: `${pod(event.pod)}: ${event.calls} call(s) waiting via ${event.replicaId}${oldest}` };
    }
    case 'inflight.ended': {
      const what = event.rpcMethod ?? (event.outcome === 'stream-closed' ? 'a GET stream' : 'a request');
      const unknown = event.outcome === 'unknown-outcome';
      return {
        // Honest, not a routing failure: the client does see an error, so it is listed with them.
        kinds: unknown ? ['sessions', 'errors'] : ['sessions'], tone: 'warn',
        text: `${what} of session ${id(event.sessionId)}, ${ms(event.ageMs)} under way on ${pod(event.pod)}: ${ENDED[event.reason]} → ${OUTCOMES[event.outcome]} (via ${event.replicaId})`,
      };
    }
    // pinlab-proxy's pod discovery (--backend-dns); the lab's own service never emits these.
    case 'dns.changed':
      return { kinds: ['pods'], tone: 'info', text: `${event.replicaId}: DNS for ${event.name} answers ${event.pods.map(pod).join(', ') || 'no pod'}` };
    case 'dns.failed':
      return { kinds: ['pods', 'errors'], tone: 'bad', text: `${event.replicaId}: DNS lookup of ${event.name} failed (${event.message}); keeps ${event.kept.length} pod(s)` };
    case 'pod.changed':
      return {
        kinds: ['pods'], tone: event.state === 'dead' ? 'bad' : event.state === 'paused' ? 'warn' : 'info',
        text: `${event.pod} ${event.state}${event.address ? ` at ${event.address}` : ''}${event.reason ? ` (${event.reason})` : ''}`,
      };
    case 'replica.changed':
      return { kinds: ['replicas'], tone: event.state === 'running' ? 'info' : event.state === 'down' ? 'bad' : 'warn', text: `${event.replica} ${event.state}${event.reason ? ` (${event.reason})` : ''}` };
    case 'redis.changed':
      return { kinds: ['redis'], tone: event.up ? 'good' : 'bad', text: `Redis ${event.up ? 'up' : 'down'}: ${event.reason}` };
    case 'redis.keys':
      return { kinds: ['redis'], tone: 'info', text: `Redis holds ${event.keys ?? 'an unknown number of'} session record(s)` };
    case 'server.identified':
      return { kinds: ['lab'], tone: event.server.error ? 'warn' : 'info', text: `server under test: ${serverLine(event.server)}` };
    case 'service.endpoints':
      return { kinds: ['pods'], tone: 'info', text: `service endpoints: ${event.endpoints.map((url) => pod(addressOfUrl(url))).join(', ') || 'none'}` };
    case 'traffic.call': {
      const who = event.sessionId ? `${event.client} (session ${id(event.sessionId)})` : event.client;
      if (callOutcome(event) === 'unknown-outcome') {
        return { kinds: ['sessions', 'errors'], tone: 'warn', text: `${who}: ${event.method} → outcome unknown, an honest answer (JSON-RPC -32050): ${event.error ?? ''}` };
      }
      if (!event.ok) {
        const status = [event.status && `HTTP ${event.status}`, event.rpcCode && `JSON-RPC ${event.rpcCode}`].filter(Boolean).join(', ');
        return { kinds: ['sessions', 'errors'], tone: 'bad', text: `${who} saw an error${status ? ` (${status})` : ''}: ${event.error ?? 'unknown'}` };
      }
      if (event.stateLost) return { kinds: ['sessions', 'errors'], tone: 'warn', text: `${who}: counter went back to ${event.count ?? '?'}: the session's state was lost` };
      return { kinds: ['sessions'], tone: 'info', text: `${who}: ${event.method} answered in ${ms(event.latencyMs)}` };
    }
    case 'handle.leak': {
      // On screen the handle is short, in the error too; a report keeps every character. Either way it is a tool's error.
      const handle = full ? event.handle : shortId(event.handle);
      const error = (full ? event.error : event.error.replaceAll(event.handle, handle)).replace(/^tool error: /, '');
      return {
        kinds: ['sessions', 'errors'], tone: 'bad',
        text: `handle ${handle} minted on ${pod(event.mintedOn)}, used on ${pod(event.usedOn)} by ${event.client} (${event.method}), failed: ${error}`,
      };
    }
    case 'client.seen': {
      const who = `${event.simulated ? 'simulated client' : 'client'} ${event.clientInfo.name}${event.clientInfo.version ? ` ${event.clientInfo.version}` : ''}`;
      const from = event.remoteAddress ? ` from ${event.remoteAddress}` : '';
      return { kinds: ['sessions'], tone: 'info', text: event.sessionId ? `${who}${from} opened session ${id(event.sessionId)}` : `${who}${from} calls without a session` };
    }
    case 'client.checked':
      return {
        kinds: event.verdict === 'fail' ? ['sessions', 'errors'] : ['sessions'], tone: event.verdict === 'pass' ? 'good' : event.verdict === 'fail' ? 'bad' : 'warn',
        text: `client check of ${event.client} (session ${id(event.sessionId)}): ${verdictLine(event)}`,
      };
    case 'image.progress':
      return { kinds: ['lab'], tone: 'info', text: `image ${event.stage}: ${event.message}` };
    case 'lab.log':
      return {
        kinds: event.level === 'info' ? ['lab'] : ['lab', 'errors'], tone: event.level === 'error' ? 'bad' : event.level === 'warn' ? 'warn' : 'info',
        text: event.level === 'info' ? event.message : `${event.level === 'warn' ? 'warning' : 'error'}: ${event.message}`,
      };
  }
}

/** One line: `mcp-servers/everything 2.0.0 (command node …), protocol 2025-11-25, sessions, 13 tools`. */
function serverLine(server: ServerUnderTest): string {
  const who = server.name ? `${server.name} ${server.version ?? '(no version)'} (${server.source})` : server.source;
  if (server.name === null) return `${who}: not identified${server.error ? `: ${server.error}` : ''}`;
  const sessions = server.sessions === null ? 'sessions unknown' : server.sessions ? 'sessions' : 'stateless (no sessions)';
  return `${who}, protocol ${server.protocolVersion ?? 'unknown'}, ${sessions}, ${server.tools.length} tool(s)${server.error ? ` (${server.error})` : ''}`;
}

/**
 * The timeline's entries: a `recovery.started` whose ending (done or failed) is also listed is
 * left out, so that one recovery reads as one story.
 */
export function storyEvents(recent: readonly LabEvent[]): LabEvent[] {
  const ended = new Set<string>();
  const kept: LabEvent[] = [];
  for (let i = recent.length - 1; i >= 0; i--) {
    const event = recent[i]!;
    if (event.type === 'recovery.done' || event.type === 'recovery.failed') ended.add(`${event.sessionId} ${event.fromPod}`);
    if (event.type === 'recovery.started' && ended.has(`${event.sessionId} ${event.fromPod}`)) continue;
    kept.push(event);
  }
  return kept.reverse();
}
