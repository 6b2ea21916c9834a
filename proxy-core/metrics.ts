import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { methodLabel } from './mcp-headers.ts';
import type { McpProxy } from './proxy.ts';

let processMetrics: Registry | null = null;

/**
 * The process's default metrics, collected once per process: each collection starts an event
 * loop delay monitor and GC observers that live as long as the process, so a collection per
 * proxy (the lab restarts its in-process replicas) would pile them up.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * Prometheus metrics for one proxy, built from its events alone (so a proxy without
 * metrics pays nothing). One registry per proxy: the lab runs several in one process.
 */
export class ProxyMetrics {
  /** This proxy's metrics, and the process's (CPU, memory, event loop…) when asked for. */
  readonly registry: Registry;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(proxy: McpProxy, options: { processMetrics?: boolean } = {}) {
    const registry = new Registry();
    // The replica's name as an info metric, not a default label: default labels make
    // prom-client merge and hash a label object on every observation of the hot path.
    new Gauge({ name: 'pinlab_proxy_info', help: 'This replica (value is always 1).', labelNames: ['replica', 'store'] as const, registers: [registry] })
      .labels(proxy.replicaId, proxy.store.kind).set(1);

    // prom-client hashes a child's labels on every `inc`: requests are counted here, per label
    // set in a plain number, and added to the counter when it is read (scraped).
    const counted: { child: Counter.Internal; count: number }[] = [];
    const requests = new Counter({
      name: 'pinlab_proxy_requests_total',
      help: 'Requests answered, by HTTP method, status and MCP method (a 2026-07-28 request\'s Mcp-Method: a known method, "other", or "none" without one).',
      labelNames: ['method', 'status', 'mcp_method'] as const, registers: [registry],
      collect() {
        for (const labelled of counted) {
          if (labelled.count === 0) continue;
          labelled.child.inc(labelled.count);
          labelled.count = 0;
        }
      },
    });
    const latency = new Histogram({
      name: 'pinlab_proxy_request_duration_seconds', help: 'Time from request to response head (streams excluded past their head).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    });
    const recoveries = new Counter({
      name: 'pinlab_proxy_recoveries_total', help: 'Session recoveries, by cause and outcome (done, reused, failed).',
      labelNames: ['cause', 'outcome'] as const, registers: [registry],
    });
    const storeErrors = new Counter({
      name: 'pinlab_proxy_store_errors_total', help: 'Session store operations that failed.',
      labelNames: ['operation'] as const, registers: [registry],
    });
    const created = new Counter({ name: 'pinlab_proxy_sessions_created_total', help: 'Sessions initialized through this replica.', registers: [registry] });
    const unhealthy = new Gauge({
      name: 'pinlab_proxy_pod_unhealthy', help: 'Pods this replica has found not answering their health probes (1), by pod; 0 once they answer again.',
      labelNames: ['pod'] as const, registers: [registry],
    });
    const ended = new Counter({
      name: 'pinlab_proxy_inflight_ended_total', help: 'Requests under way that the proxy ended, by reason and outcome (replayed, retried, unknown-outcome, stream-closed).',
      labelNames: ['reason', 'outcome'] as const, registers: [registry],
    });
    new Gauge({
      name: 'pinlab_proxy_calls_in_flight', help: 'Calls (not GET streams) this replica has waiting on a pod, by pod.',
      labelNames: ['pod'] as const, registers: [registry],
      collect() {
        this.reset();
        for (const pod of proxy.inFlight()) this.labels(pod.pod).set(pod.calls);
      },
    });
    new Gauge({
      name: 'pinlab_proxy_active_sessions',
      help: 'Sessions this replica knows: all records of its memory store, or those it has served from Redis.',
      registers: [registry],
      collect() {
        this.set(proxy.store.size() ?? 0);
      },
    });

    // One count per label set, found by plain lookups (no key string is built per request). The
    // MCP method's label is a known method or a constant, so they stay bounded whatever clients send.
    const requestCounts = new Map<string, Map<number, Map<string, { child: Counter.Internal; count: number }>>>();
    // The unlabelled series' own observer, made once (`observe` on the histogram makes one per call).
    const observeLatency = latency.labels().observe;
    this.unsubscribe.push(
      proxy.events.on('request.routed', (e) => {
        let byStatus = requestCounts.get(e.httpMethod);
        if (!byStatus) requestCounts.set(e.httpMethod, (byStatus = new Map()));
        let byMethod = byStatus.get(e.status);
        if (!byMethod) byStatus.set(e.status, (byMethod = new Map()));
        const method = methodLabel(e.mcpMethod);
        let labelled = byMethod.get(method);
        if (!labelled) {
          labelled = { child: requests.labels(e.httpMethod, String(e.status), method), count: 0 };
          byMethod.set(method, labelled);
          counted.push(labelled);
        }
        labelled.count++;
        observeLatency(e.durationMs / 1000);
      }),
      proxy.events.on('recovery.done', (e) => recoveries.labels(e.cause, e.reused ? 'reused' : 'done').inc()),
      proxy.events.on('recovery.failed', (e) => recoveries.labels(e.cause, 'failed').inc()),
      proxy.events.on('store.error', (e) => storeErrors.labels(e.operation).inc()),
      proxy.events.on('session.created', () => created.inc()),
      proxy.events.on('pod.health', (e) => unhealthy.labels(e.pod).set(e.health === 'unhealthy' ? 1 : 0)),
      proxy.events.on('inflight.ended', (e) => ended.labels(e.reason, e.outcome).inc()),
    );
    // Merged last: a merge takes the metrics registered so far.
    this.registry = options.processMetrics ? Registry.merge([processRegistry(), registry]) : registry;
  }

  close(): void {
    for (const off of this.unsubscribe) off();
  }
}
