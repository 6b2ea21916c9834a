import type { ReplayPolicy } from './replay-safety.ts';
import type { PinningKind } from './session/record.ts';

/** Everything `pinlab-proxy` can be told, by flag or `PINLAB_*` variable. */
export interface ProxyConfig {
  port: number;
  host: string;
  /** The service's endpoints: pod URLs sharing one path. */
  backends: string[];
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
} as const satisfies Partial<ProxyConfig>;
