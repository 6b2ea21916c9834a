import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AffinityPolicy } from '../config.ts';

export type { AffinityPolicy };
export const AFFINITY_COOKIE = 'pinlab-replica';

/** Picks a replica for a request; pure apart from the round-robin counter it is given. */
export function chooseReplica(policy: AffinityPolicy, req: IncomingMessage, live: readonly string[], roundRobin: () => number): string | undefined {
  if (live.length === 0) return undefined;
  const byHash = (key: string) => live[hash(key) % live.length];
  switch (policy) {
    case 'client-ip':
      return byHash(req.socket.remoteAddress ?? '');
    case 'cookie': {
      const pinned = cookie(req.headers.cookie, AFFINITY_COOKIE);
      if (pinned && live.includes(pinned)) return pinned;
      break;
    }
    case 'session-hash': {
      const session = req.headers['mcp-session-id'];
      if (typeof session === 'string') return byHash(session);
      break;
    }
    case 'round-robin':
      break;
  }
  return live[roundRobin() % live.length];
}

function hash(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0);
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}
