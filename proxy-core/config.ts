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
  storeRequired: boolean;
  logFormat: 'text' | 'json';
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
  storeRequired: false,
  logFormat: 'text',
} as const satisfies Partial<ProxyConfig>;
