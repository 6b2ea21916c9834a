import type { LabEvent } from '../events.ts';
import type { ClientSeen } from '../ingress/ingress.ts';

/** Sessions remembered; the oldest are forgotten first (a long run re-initializes many). */
const MAX_SESSIONS = 5000;

interface SessionEntry {
  /** Who opened it, once the ingress saw its initialize answered. */
  client: ClientSeen | null;
  /** `host:port` of the pod it is pinned to now. */
  pod: string | null;
}

/**
 * Which client opened which session, and which pod each session is on now: fed with the
 * lab's events, asked by client checks. Bounded.
 */
export class ClientRegistry {
  private readonly sessions = new Map<string, SessionEntry>();

  observe(event: LabEvent): void {
    switch (event.type) {
      case 'session.created':
        this.entry(event.sessionId).pod = event.pod;
        break;
      case 'recovery.done': {
        const entry = this.sessions.get(event.sessionId);
        if (entry) entry.pod = event.toPod;
        break;
      }
      case 'client.seen':
        if (event.sessionId) this.entry(event.sessionId).client = event;
        break;
      case 'session.deleted':
        this.sessions.delete(event.sessionId);
        break;
      default:
        break;
    }
  }

  clientOf(sessionId: string): ClientSeen | null {
    return this.sessions.get(sessionId)?.client ?? null;
  }

  podOf(sessionId: string): string | null {
    return this.sessions.get(sessionId)?.pod ?? null;
  }

  /** The sessions a client of that name opened, oldest first. */
  sessionsOf(name: string): string[] {
    return [...this.sessions].filter(([, entry]) => entry.client?.clientInfo.name === name).map(([id]) => id);
  }

  /** Every client seen with a session, newest session of each name. */
  clients(): ClientSeen[] {
    const byName = new Map<string, ClientSeen>();
    for (const { client } of this.sessions.values()) if (client) byName.set(client.clientInfo.name, client);
    return [...byName.values()];
  }

  private entry(sessionId: string): SessionEntry {
    let entry = this.sessions.get(sessionId);
    if (!entry) {
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
      this.sessions.set(sessionId, (entry = { client: null, pod: null }));
    }
    return entry;
  }
}
