import type { ProxyEvent, ProxyEvents } from './events.ts';
import { sessionTag } from './session/id.ts';

export type LogFormat = 'text' | 'json';
export type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** A logger writing one line per entry to stderr, as text or JSON. */
export function createLogger(format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  return (level, message, fields = {}) => {
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
      return;
    }
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ' ' + extra : ''}`);
  };
}

const LOGGED: readonly ProxyEvent['type'][] = [
  'session.created', 'session.deleted', 'recovery.started', 'recovery.done', 'recovery.failed', 'store.error', 'store.restored',
  'pod.health', 'inflight.ended', 'dns.changed', 'dns.failed',
];

/**
 * Logs lifecycle events (never per-request routing: that is what metrics are for). A client
 * session id acts as a bearer token, so logs carry its short hash (`sessionTag`), never the id.
 */
export function logEvents(events: ProxyEvents, log: Logger): () => void {
  const offs = LOGGED.map((type) =>
    events.on(type, (event) => {
      const { type: name, at: _at, ...fields } = event as ProxyEvent;
      if ('sessionId' in fields && typeof fields.sessionId === 'string') fields.sessionId = sessionTag(fields.sessionId);
      log(warns(event as ProxyEvent) ? 'warn' : 'info', name, fields);
    }),
  );
  return () => offs.forEach((off) => off());
}

function warns(event: ProxyEvent): boolean {
  switch (event.type) {
    case 'store.error':
    case 'recovery.failed':
    case 'inflight.ended':
    case 'dns.failed':
      return true;
    case 'pod.health':
      return event.health === 'unhealthy';
    default:
      return false;
  }
}
