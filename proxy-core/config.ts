import type { HttpFront } from './http/server.ts';
import type { ReplayPolicy } from './replay-safety.ts';
import type { PinningKind } from './session/record.ts';
import type { BackendDns } from './upstream/dns.ts';

/** Everything `pinlab-proxy` can be told, by flag or `PINLAB_*` variable. */
export interface ProxyConfig {
  port: number;
  host: string;
  /** The service's endpoints: pod URLs sharing one path. Empty with `backendDns`. */
  backends: string[];
  /** Find the pods by DNS instead: every A/AAAA record of a name (a headless Service's pods). */
  backendDns?: BackendDns | null;
  /** Milliseconds between lookups of `backendDns`. */
  dnsRefreshMs?: number;
  /** The DNS server to ask (`host:port`); null: the system's (/etc/resolv.conf). */
  dnsServer?: string | null;
  store: 'memory' | 'redis';
  redisUrl: string;
  keyPrefix: string;
  /** Seconds; 0 keeps sessions until deleted. */
  sessionTtl: number;
  pinning: PinningKind;
  recovery: boolean;
  unknownSessionStatus: 404 | 400;
  replicaId: string;
  maxBody: number;
  /** Largest initialize body stored for replay (bytes); larger ones get 413. */
  maxInitialize: number;
  storeRequired: boolean;
  /**
   * Redis unreachable at start (and not required): start on it anyway — sessions served from
   * this replica's copies, written to Redis once it answers — instead of falling back to the
   * memory store. The lab's replicas do: its Redis only ever goes away to come back.
   */
  awaitRedis?: boolean;
  logFormat: 'text' | 'json';
  /** Milliseconds between health probes of a pod; 0 turns probing off. */
  healthIntervalMs: number;
  /** A probe not answered within this many milliseconds failed. */
  healthTimeoutMs: number;
  /** Failed probes in a row that make a pod unhealthy. */
  unhealthyAfter: number;
  replayInFlight: ReplayPolicy;
  /** A call without a complete answer after this many milliseconds is ended; 0 = never. */
  upstreamTimeoutMs: number;
  /** Serve `/metrics` on this port instead of the MCP port; null keeps it on the MCP port. */
  metricsPort: number | null;
  /** On SIGTERM, connections are still taken for this many milliseconds (while endpoint lists drop the replica). */
  shutdownDelayMs?: number;
  /** Then what is in flight gets this many milliseconds to finish; past it, it is cut and the exit code is 1. */
  shutdownTimeoutMs?: number;
  /** Who reads clients' requests: node:http, or the lean front for plain POSTs (node:http for the rest). */
  httpFront?: HttpFront;
}

export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  store: 'memory',
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: 'pinlab:',
  sessionTtl: 1800,
  pinning: 'pod',
  recovery: true,
  unknownSessionStatus: 404,
  maxBody: 4 * 1024 * 1024,
  maxInitialize: 64 * 1024,
  storeRequired: false,
  logFormat: 'text',
  healthIntervalMs: 1000,
  healthTimeoutMs: 1000,
  unhealthyAfter: 2,
  replayInFlight: 'safe',
  upstreamTimeoutMs: 0,
  metricsPort: null,
  backendDns: null,
  dnsRefreshMs: 5000,
  dnsServer: null,
  shutdownDelayMs: 5000,
  shutdownTimeoutMs: 30_000,
  httpFront: 'lean',
} as const satisfies Partial<ProxyConfig>;
