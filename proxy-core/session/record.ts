/** What a session record remembers as its target (DESIGN.md, "pinning"); the lab's switch offers these. */
export const PINNING_KINDS = ['pod', 'service'] as const;
export type PinningKind = (typeof PINNING_KINDS)[number];

/**
 * One client session, stored as JSON under `<prefix>session:<clientSessionId>`: small, read
 * by every follow-up. Every replica can route the session from this record alone. The
 * initialize body, replayed by recovery, is kept apart under `<prefix>init:<clientSessionId>`
 * and read only by recovery.
 */
export interface SessionRecord {
  /** The `Mcp-Session-Id` the client sees, minted by the proxy. */
  clientSessionId: string;
  /** The `Mcp-Session-Id` the pod issued. */
  backendSessionId: string;
  /** Where follow-ups go: the pod's URL (`pod` pinning) or the service URL (`service` pinning). */
  target: string;
  pinning: PinningKind;
  /** `params.protocolVersion` of the initialize request, when it had one. */
  protocolVersion: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last write of this record (creation or recovery). */
  lastSeenAt: number;
  lastReplicaId: string;
  reinitCount: number;
  /** Bumped by every recovery; recoveries compare-and-set on it. */
  generation: number;
}

export function encodeRecord(record: SessionRecord): string {
  return JSON.stringify(record);
}

/** Parses a stored record; a value that is not a record reads as missing rather than crashing a request. */
export function decodeRecord(raw: string): SessionRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<SessionRecord>;
  if (
    typeof r.clientSessionId !== 'string' ||
    typeof r.backendSessionId !== 'string' ||
    typeof r.target !== 'string' ||
    !PINNING_KINDS.includes(r.pinning as PinningKind) ||
    typeof r.generation !== 'number'
  ) {
    return undefined;
  }
  return value as SessionRecord;
}
