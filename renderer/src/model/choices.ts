import type { AffinityPolicy, ClientsEra, PinningKind } from '../../../app/config.ts';

// What each choice of the lab's schema means, in words: the types insist on every one, listed in this order.

export const AFFINITY_POLICIES: Record<AffinityPolicy, string> = {
  'round-robin': 'each request to the next replica',
  'client-ip': 'one client address, one replica',
  cookie: 'a sticky cookie names the replica',
  'session-hash': 'the Mcp-Session-Id picks the replica',
};

export const PINNINGS: Record<PinningKind, string> = {
  pod: 'pod — the pod its connection reached (the fix)',
  service: 'service — the service address (the old bug)',
};

export const CLIENT_ERAS: Record<ClientsEra, string> = {
  legacy: 'MCP ≤ 2025-11-25: initialize, then a session pinned to a pod',
  modern: 'MCP 2026-07-28: no session, every call through the service to any pod',
  mix: 'some clients of each era: the modern share says how many',
};
