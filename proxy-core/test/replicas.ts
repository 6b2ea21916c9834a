import type { ChildProcess } from 'node:child_process';
import { ProxyEvents, type ProxyEvent } from '../events.ts';
import { startProxy, type RunningProxy } from '../run.ts';
import type { ProxyConfig } from '../config.ts';
import { DEFAULTS } from '../config.ts';
import { killChild, spawnNode } from './processes.ts';

export type ReplicaConfig = Partial<ProxyConfig> & Pick<ProxyConfig, 'backends'>;

const seconds = (ms: number) => String(ms / 1000);

function fullConfig(config: ReplicaConfig): ProxyConfig {
  return {
    ...DEFAULTS, port: 0, replicaId: 'replica-1', storeRequired: false, logFormat: 'text', ...config,
  } as ProxyConfig;
}

/** A proxy replica in this process, with every event it emits recorded. */
export async function startReplica(config: ReplicaConfig): Promise<RunningProxy & { events: ProxyEvent[] }> {
  const bus = new ProxyEvents();
  const events: ProxyEvent[] = [];
  bus.onAny((event) => events.push(event));
  const running = await startProxy(fullConfig(config), () => {}, bus);
  return Object.assign(running, { events });
}

/** `pinlab-proxy` as its own process, so it can be killed and started again on its port. */
export interface ProxyProcess {
  url: string;
  port: number;
  child: ChildProcess;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Sends `signal` and waits for the exit: its code (null when a signal ended it). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  /** Starts it again on its port after `stop`; resolves once it listens. */
  start(): Promise<void>;
  output(): string;
}

/** `extraArgs`: flags of the process rather than of the proxy (`--workers N`). */
export async function spawnReplica(config: ReplicaConfig, extraArgs: readonly string[] = []): Promise<ProxyProcess> {
  const c = fullConfig(config);
  const args = (port: number) => [
    '--port', String(port), '--host', '127.0.0.1', ...c.backends.flatMap((b) => ['--backend', b]),
    ...(c.backendDns ? ['--backend-dns', `${c.backendDns.name}:${c.backendDns.port}${c.backendDns.path}`] : []),
    ...(c.dnsServer ? ['--dns-server', c.dnsServer] : []), '--dns-refresh', seconds(c.dnsRefreshMs ?? DEFAULTS.dnsRefreshMs),
    '--shutdown-delay', seconds(c.shutdownDelayMs ?? DEFAULTS.shutdownDelayMs), '--shutdown-timeout', seconds(c.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs),
    '--store', c.store,
    '--redis-url', c.redisUrl, '--key-prefix', c.keyPrefix, '--pinning', c.pinning, '--recovery', c.recovery ? 'on' : 'off',
    '--replica-id', c.replicaId, '--log-format', 'json',
    '--health-interval', seconds(c.healthIntervalMs), '--health-timeout', seconds(c.healthTimeoutMs),
    '--unhealthy-after', String(c.unhealthyAfter), '--replay-in-flight', c.replayInFlight, '--upstream-timeout', seconds(c.upstreamTimeoutMs),
    '--max-initialize', String(c.maxInitialize), ...(c.metricsPort === null ? [] : ['--metrics-port', String(c.metricsPort)]),
    ...extraArgs,
  ];
  const launch = async (port: number) => {
    const { child, line, output } = await spawnNode('proxy-core/cli/bin.js', args(port), /listening on/);
    const url = (JSON.parse(line) as { msg: string }).msg.split(' listening on ')[1] as string;
    return { child, url, output };
  };
  let started = await launch(c.port);
  const port = Number(new URL(started.url).port);
  const replica: ProxyProcess = {
    url: started.url,
    port,
    child: started.child,
    kill: () => killChild(replica.child),
    async restart() {
      await killChild(replica.child);
      started = await launch(port);
      replica.child = started.child;
    },
    async stop(signal) {
      await killChild(replica.child, signal);
      return replica.child.exitCode;
    },
    async start() {
      started = await launch(port);
      replica.child = started.child;
    },
    output: () => started.output(),
  };
  return replica;
}
