import type { LabEvent } from '../../../app/events.ts';
import type { PodView } from '../../../app/state/snapshot.ts';
import { addressOfUrl, podLabel, shortId } from './names.ts';

type RecoveryCause = Extract<LabEvent, { type: 'recovery.done' }>['cause'];

export type EventKind = 'sessions' | 'recoveries' | 'pods' | 'replicas' | 'redis' | 'errors' | 'lab';

export interface Described {
  /** What the timeline's filters group it under (an error also counts as its own kind). */
  kinds: EventKind[];
  tone: 'info' | 'good' | 'warn' | 'bad';
  text: string;
}

const CAUSES: Record<RecoveryCause, string> = {
  'connect-refused': 'connect refused',
  'connect-reset': 'connection reset',
  'connect-timeout': 'connect timeout',
  unreachable: 'unreachable',
  'session-lost-404': 'pod answered 404: session lost',
  'session-lost-400': 'pod answered 400: unknown session',
  'session-lost-32001': 'pod answered -32001: session not found',
};

export function causeText(cause: RecoveryCause): string {
  return CAUSES[cause] ?? cause;
}

/** One event as a sentence, pod addresses named by the pods they belong to. */
export function describe(event: LabEvent, pods: Record<string, PodView>): Described {
  const pod = (address: string | null | undefined) => podLabel(pods, address);
  switch (event.type) {
    case 'session.created':
      return { kinds: ['sessions'], tone: 'info', text: `session ${shortId(event.sessionId)} created on ${pod(event.pod)} via ${event.replicaId} (pinning: ${event.pinning})` };
    case 'session.deleted':
      return { kinds: ['sessions'], tone: 'info', text: `session ${shortId(event.sessionId)} deleted on ${pod(event.pod)}${event.podStatus ? ` (pod answered ${event.podStatus})` : ''}` };
    case 'session.unknown':
      return { kinds: ['sessions', 'errors'], tone: 'bad', text: `${event.replicaId} does not know session ${shortId(event.sessionId)} → ${event.status}: the client must start over` };
    case 'recovery.started':
      return { kinds: ['recoveries'], tone: 'warn', text: `session ${shortId(event.sessionId)} lost ${pod(event.fromPod)} (${causeText(event.cause)}) → re-initializing…` };
    case 'recovery.done': {
      const how = event.reused
        ? `joined the re-initialization on ${pod(event.toPod)} another request made`
        : `re-initialized on ${pod(event.toPod)} in ${Math.round(event.durationMs)} ms`;
      return { kinds: ['recoveries'], tone: 'good', text: `session ${shortId(event.sessionId)} lost ${pod(event.fromPod)} (${causeText(event.cause)}) → ${how} → replayed` };
    }
    case 'recovery.failed':
      return { kinds: ['recoveries', 'errors'], tone: 'bad', text: `session ${shortId(event.sessionId)} lost ${pod(event.fromPod)} (${causeText(event.cause)}) → re-initialization failed: ${event.reason}` };
    case 'store.error':
      return { kinds: ['redis', 'errors'], tone: 'bad', text: `${event.replicaId}: session store ${event.operation} failed: ${event.message}` };
    case 'store.restored':
      return { kinds: ['redis'], tone: 'good', text: `${event.replicaId}: session store answers again${event.flushed ? `, ${event.flushed} pending write(s) flushed` : ''}` };
    case 'request.routed':
      return { kinds: ['sessions'], tone: 'info', text: `${event.httpMethod} ${shortId(event.sessionId)} → ${pod(event.pod)}: ${event.status}` };
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
      return { kinds: ['lab'], tone: event.server.error ? 'warn' : 'info', text: `server under test: ${event.server.name ? `${event.server.name} ${event.server.version ?? ''} (${event.server.source}), ${event.server.sessions ? 'sessions' : 'stateless'}, ${event.server.tools.length} tool(s)` : `${event.server.source}: ${event.server.error ?? 'not identified'}`}` };
    case 'service.endpoints':
      return { kinds: ['pods'], tone: 'info', text: `service endpoints: ${event.endpoints.map((url) => pod(addressOfUrl(url))).join(', ') || 'none'}` };
    case 'traffic.call': {
      const who = `${event.client} (session ${shortId(event.sessionId)})`;
      if (!event.ok) {
        const status = [event.status && `HTTP ${event.status}`, event.rpcCode && `JSON-RPC ${event.rpcCode}`].filter(Boolean).join(', ');
        return { kinds: ['sessions', 'errors'], tone: 'bad', text: `${who} saw an error${status ? ` (${status})` : ''}: ${event.error ?? 'unknown'}` };
      }
      return { kinds: ['sessions', 'errors'], tone: 'warn', text: `${who}: counter went back to ${event.count ?? '?'} — the session's state was lost` };
    }
    case 'image.progress':
      return { kinds: ['lab'], tone: 'info', text: `image ${event.stage}: ${event.message}` };
    case 'lab.log':
      return { kinds: event.level === 'info' ? ['lab'] : ['lab', 'errors'], tone: event.level === 'error' ? 'bad' : event.level === 'warn' ? 'warn' : 'info', text: event.message };
  }
}

/** The session an event is about, if any. */
export function sessionOf(event: LabEvent): string | null {
  return 'sessionId' in event ? event.sessionId : null;
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
