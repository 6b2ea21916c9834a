import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, type ProxyConfig } from '../config.ts';
import { HTTP_FRONTS } from '../http/server.ts';
import { REPLAY_POLICIES } from '../replay-safety.ts';
import { parseBackendDns, parseDnsServer, type BackendDns } from '../upstream/dns.ts';
import { parseBackendUrl, Service } from '../upstream/service.ts';
import { onOffArgument, onOffWord } from './on-off.ts';

function integer(min: number, max: number, what: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** Seconds as given (decimals allowed), returned as milliseconds. */
function seconds(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new InvalidArgumentError(`expected seconds (e.g. 1 or 0.5), got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected seconds from ${min} to ${max}, got ${n}`);
    return Math.round(n * 1000);
  };
}

/** A parser that turns `parse`'s error into commander's, so that the message names the flag. */
function checked<T>(parse: (value: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

function backendList(value: string, previous: string[] | undefined): string[] {
  const urls = value.split(',').map((v) => v.trim()).filter(Boolean);
  for (const url of urls) checked(parseBackendUrl)(url);
  return [...(previous ?? []), ...urls];
}

function keyPrefix(value: string): string {
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(value)) throw new InvalidArgumentError(`expected letters, digits and : _ . - (at most 64), got "${value}"`);
  return value;
}

/** The `pinlab-proxy` command line; every flag also reads `PINLAB_<FLAG>`. */
export function proxyCommand(): Command {
  return new Command('pinlab-proxy')
    .description('Session-aware MCP proxy: pins each session to the pod that served initialize, shares records in Redis, and re-initializes transparently when a pod is lost.')
    .addOption(new Option('--port <port>', 'port to listen on').env('PINLAB_PORT').argParser(integer(0, 65535, 'a port')).default(DEFAULTS.port))
    .addOption(new Option('--host <host>', 'address to listen on').env('PINLAB_HOST').default(DEFAULTS.host))
    .addOption(new Option('--backend <url>', 'a pod\'s MCP URL (repeat, or comma-separate); together they are the service (this, or --backend-dns)').env('PINLAB_BACKEND').argParser(backendList))
    .addOption(new Option('--backend-dns <name:port/path>', 'find the pods by DNS instead: every A/AAAA record of NAME (a headless Service; give the full name), serving PORT and path (default /mcp), looked up again every --dns-refresh').env('PINLAB_BACKEND_DNS').argParser(checked(parseBackendDns)).conflicts('backend'))
    .addOption(new Option('--dns-refresh <seconds>', 'seconds between lookups of --backend-dns; a failed lookup keeps the last good answer').env('PINLAB_DNS_REFRESH').argParser(seconds(0.1, 3600)).default(DEFAULTS.dnsRefreshMs, String(DEFAULTS.dnsRefreshMs / 1000)))
    .addOption(new Option('--dns-server <address:port>', 'the DNS server --backend-dns asks (default: the system\'s, from /etc/resolv.conf)').env('PINLAB_DNS_SERVER').argParser(checked(parseDnsServer)))
    .addOption(new Option('--store <kind>', 'where session records live').env('PINLAB_STORE').choices(['memory', 'redis']).default(DEFAULTS.store))
    .addOption(new Option('--redis-url <url>', 'Redis for --store redis').env('PINLAB_REDIS_URL').default(DEFAULTS.redisUrl))
    .addOption(new Option('--key-prefix <prefix>', 'prefix of every Redis key').env('PINLAB_KEY_PREFIX').argParser(keyPrefix).default(DEFAULTS.keyPrefix))
    .addOption(new Option('--session-ttl <seconds>', 'session record TTL, refreshed on each use; 0 = none').env('PINLAB_SESSION_TTL').argParser(integer(0, 31_536_000, 'seconds')).default(DEFAULTS.sessionTtl))
    .addOption(new Option('--pinning <kind>', 'pin sessions to the pod reached, or to the service address (reproduces the historical bug)').env('PINLAB_PINNING').choices(['pod', 'service']).default(DEFAULTS.pinning))
    .addOption(new Option('--recovery <on|off>', 're-initialize sessions whose pod is lost').env('PINLAB_RECOVERY').argParser(onOffArgument).default(DEFAULTS.recovery, onOffWord(DEFAULTS.recovery)))
    .addOption(new Option('--replica-id <name>', 'this replica\'s name in events, logs and metrics').env('PINLAB_REPLICA_ID').default(hostname()))
    .addOption(new Option('--unknown-session-status <status>', 'status for an unknown session id (404 per the MCP spec; 400 as ToolHive)').env('PINLAB_UNKNOWN_SESSION_STATUS').choices(['404', '400']).default(String(DEFAULTS.unknownSessionStatus)))
    .addOption(new Option('--max-body <bytes>', 'largest request body buffered for replay; larger gets 413').env('PINLAB_MAX_BODY').argParser(integer(1, 1024 ** 3, 'a byte count')).default(DEFAULTS.maxBody))
    // A value is optional so that PINLAB_STORE_REQUIRED=off (or false, 0) means off: commander
    // takes any value of a plain boolean flag's variable as on.
    .addOption(new Option('--store-required [on|off]', 'exit (code 2) instead of falling back to memory when Redis is unreachable at start').env('PINLAB_STORE_REQUIRED').argParser(onOffArgument).default(DEFAULTS.storeRequired, onOffWord(DEFAULTS.storeRequired)))
    .addOption(new Option('--log-format <format>', 'log lines as text or JSON').env('PINLAB_LOG_FORMAT').choices(['text', 'json']).default(DEFAULTS.logFormat))
    .addOption(new Option('--max-initialize <bytes>', 'largest initialize request stored for replay; larger gets 413').env('PINLAB_MAX_INITIALIZE').argParser(integer(1, 16 * 1024 * 1024, 'a byte count')).default(DEFAULTS.maxInitialize))
    .addOption(new Option('--health-interval <seconds>', 'seconds between health probes of each pod (OPTIONS on the MCP path: any HTTP answer passes); 0 = no probes').env('PINLAB_HEALTH_INTERVAL').argParser(seconds(0, 3600)).default(DEFAULTS.healthIntervalMs, String(DEFAULTS.healthIntervalMs / 1000)))
    .addOption(new Option('--health-timeout <seconds>', 'a probe not answered within this many seconds failed').env('PINLAB_HEALTH_TIMEOUT').argParser(seconds(0.01, 3600)).default(DEFAULTS.healthTimeoutMs, String(DEFAULTS.healthTimeoutMs / 1000)))
    .addOption(new Option('--unhealthy-after <probes>', 'failed probes in a row that make a pod unhealthy (one answered probe makes it healthy again)').env('PINLAB_UNHEALTHY_AFTER').argParser(integer(1, 100, 'a probe count')).default(DEFAULTS.unhealthyAfter))
    .addOption(new Option('--replay-in-flight <policy>', 'calls under way on a pod that stops answering: replay reads and read-only/idempotent tools (safe), everything (all), or nothing (none); the rest are answered "may or may not have run"').env('PINLAB_REPLAY_IN_FLIGHT').choices(REPLAY_POLICIES).default(DEFAULTS.replayInFlight))
    .addOption(new Option('--upstream-timeout <seconds>', 'end a call (not a GET stream) still unanswered after this many seconds, as "may or may not have run"; 0 = never').env('PINLAB_UPSTREAM_TIMEOUT').argParser(seconds(0, 86_400)).default(DEFAULTS.upstreamTimeoutMs, '0'))
    .addOption(new Option('--metrics-port <port>', 'serve /metrics (and /healthz, /readyz) on this port instead of the MCP port').env('PINLAB_METRICS_PORT').argParser(integer(0, 65535, 'a port')))
    .addOption(new Option('--shutdown-delay <seconds>', 'on SIGTERM /readyz answers 503 at once, and connections are still taken for this long, while endpoint lists drop the replica').env('PINLAB_SHUTDOWN_DELAY').argParser(seconds(0, 3600)).default(DEFAULTS.shutdownDelayMs, String(DEFAULTS.shutdownDelayMs / 1000)))
    .addOption(new Option('--workers <n>', 'worker processes sharing the port (SO_REUSEPORT): one pinlab-proxy on n cores; they share the session store, so n > 1 needs --store redis (and refuses to start without it, as --store-required); a worker that dies is restarted').env('PINLAB_WORKERS').argParser(integer(1, 256, 'a worker count')).default(1))
    .addOption(new Option('--shutdown-timeout <seconds>', 'then what is in flight gets this long to finish (GET streams end after their current event); past it, it is cut and the exit code is 1').env('PINLAB_SHUTDOWN_TIMEOUT').argParser(seconds(0, 86_400)).default(DEFAULTS.shutdownTimeoutMs, String(DEFAULTS.shutdownTimeoutMs / 1000)))
    .addOption(new Option('--http-front <front>', 'who reads clients\' requests: node:http, or lean — plain POSTs (a session\'s follow-ups) read by the proxy\'s own minimal HTTP/1.1 reader, everything else by node:http').env('PINLAB_HTTP_FRONT').choices(HTTP_FRONTS).default(DEFAULTS.httpFront));
}

/** Turns parsed options into the typed config. */
export function toConfig(options: Record<string, unknown>): ProxyConfig {
  return {
    port: options.port as number,
    host: options.host as string,
    backends: (options.backend as string[] | undefined) ?? [],
    backendDns: (options.backendDns as BackendDns | undefined) ?? null,
    dnsRefreshMs: options.dnsRefresh as number,
    dnsServer: (options.dnsServer as string | undefined) ?? null,
    store: options.store as ProxyConfig['store'],
    redisUrl: options.redisUrl as string,
    keyPrefix: options.keyPrefix as string,
    sessionTtl: options.sessionTtl as number,
    pinning: options.pinning as ProxyConfig['pinning'],
    recovery: options.recovery as boolean,
    unknownSessionStatus: Number(options.unknownSessionStatus) as 404 | 400,
    replicaId: options.replicaId as string,
    maxBody: options.maxBody as number,
    storeRequired: Boolean(options.storeRequired),
    logFormat: options.logFormat as ProxyConfig['logFormat'],
    maxInitialize: options.maxInitialize as number,
    healthIntervalMs: options.healthInterval as number,
    healthTimeoutMs: options.healthTimeout as number,
    unhealthyAfter: options.unhealthyAfter as number,
    replayInFlight: options.replayInFlight as ProxyConfig['replayInFlight'],
    upstreamTimeoutMs: options.upstreamTimeout as number,
    metricsPort: (options.metricsPort as number | undefined) ?? null,
    shutdownDelayMs: options.shutdownDelay as number,
    shutdownTimeoutMs: options.shutdownTimeout as number,
    httpFront: options.httpFront as ProxyConfig['httpFront'],
  };
}

/** What is wrong with where the pods are — nowhere, or `--backend` URLs on different paths — in one line; null when nothing. */
export function backendProblem(config: ProxyConfig): string | null {
  if (config.backendDns) return null;
  if (config.backends.length === 0) return 'required option \'--backend <url>\' or \'--backend-dns <name:port/path>\' not specified (PINLAB_BACKEND, PINLAB_BACKEND_DNS)';
  try {
    new Service(config.backends); // the same path on every backend
  } catch (error) {
    return `option '--backend <url>': ${(error as Error).message}`;
  }
  return null;
}
