// Which pod a session goes to, in the floor studies: round-robin for a request without a
// known session, then the pod that answered with the session's Mcp-Session-Id — as
// bare-proxy.ts and HAProxy's stick table do. Never forgets: a floor study runs for minutes.
export class Pins {
  private readonly pods = new Map<string, number>();
  private next = 0;

  private readonly count: number;

  constructor(count: number) {
    this.count = count;
  }

  /** The pod (an index) for a request carrying `sessionId`. */
  pick(sessionId: string | undefined): number {
    const pinned = sessionId === undefined ? undefined : this.pods.get(sessionId);
    return pinned ?? this.next++ % this.count;
  }

  /** Called with an answer's Mcp-Session-Id from `pod`. */
  pin(sessionId: string | undefined, pod: number): void {
    if (sessionId !== undefined) this.pods.set(sessionId, pod);
  }
}
