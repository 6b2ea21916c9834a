// proxy-core's public surface: what the lab and other embedders use.
export { McpProxy, type ProxyOptions, type ProxySettings } from './proxy.ts';
export {
  ProxyEvents, type InFlightEndReason, type InFlightOutcome, type ProxyEvent, type ProxyEventMap, type ProxyEventName, type RecoveryCause,
} from './events.ts';
export type { PodInFlight } from './inflight.ts';
export { REPLAY_POLICIES, type ReplayPolicy } from './replay-safety.ts';
export { ProxyMetrics } from './metrics.ts';
export { createProxyServer, createMetricsServer, closeServer } from './http/server.ts';
export { startProxy, type RunningProxy } from './run.ts';
export { DEFAULTS, type ProxyConfig } from './config.ts';
export { createLogger, type Logger } from './log.ts';
export type { SessionRecord, PinningKind } from './session/record.ts';
export type { SessionStore } from './store/store.ts';
export { MemoryStore } from './store/memory.ts';
export { RedisStore } from './store/redis.ts';
export { openStore, StoreRequiredError } from './store/open.ts';
