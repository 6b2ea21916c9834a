import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import type { ProxyConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { RunningProxy, WorkerRole } from './run.ts';

/**
 * `pinlab-proxy --workers N`: one primary process that serves no MCP traffic, and N workers
 * (node:cluster), each a whole proxy listening on the same port with SO_REUSEPORT, so that the
 * kernel spreads connections over them without the primary in the path. They share the
 * session store (Redis): a session's follow-ups may land on any worker, as on any replica.
 * `/metrics` on `--metrics-port` is served by the primary, summed over the workers.
 */

/** What a worker tells the primary, over the cluster's IPC channel. */
type WorkerMessage = { pinlab: 'listening'; port: number; url: string };

/** Environment a worker is started with (its flags are the primary's own). */
const WORKER_ENV = { index: 'PINLAB_WORKER_INDEX', count: 'PINLAB_WORKER_COUNT', port: 'PINLAB_WORKER_PORT' } as const;

/** Why `--workers` cannot be used with this config, in one line; null when it can. */
export function workersProblem(config: ProxyConfig, workers: number): string | null {
  if (workers <= 1 || config.store !== 'memory') return null;
  return `option '--workers ${workers}' needs a shared store: the memory store lives in one process, so a session made on one worker would be unknown to the others (connections are spread over workers). Use --store redis, or --workers 1`;
}

/** This process's part when it is a `--workers` worker; null in a lone proxy or the primary. */
export function workerRole(): (WorkerRole & { port: number }) | null {
  if (!cluster.isWorker) return null;
  return {
    index: Number(process.env[WORKER_ENV.index]),
    count: Number(process.env[WORKER_ENV.count]),
    port: Number(process.env[WORKER_ENV.port]),
  };
}

/** In a worker, once its proxy listens: tells the primary, and lets it collect this worker's metrics. */
export function workerReady(running: RunningProxy): void {
  AggregatorRegistry.setRegistries([running.metrics.registry]);
  new AggregatorRegistry(); // its constructor installs the worker's answer to the primary's metrics requests
  const message: WorkerMessage = { pinlab: 'listening', port: running.port, url: running.url };
  process.send?.(message);
}

/** A worker that dies this soon after starting is restarted only after a pause (a crash loop must not spin). */
const QUICK_CRASH_MS = 5000;
const RESTART_PAUSE_MS = 1000;

/**
 * The primary: starts the workers (the first one picks the port when `--port 0`), restarts any
 * that dies, serves the summed metrics, and on SIGTERM drains them all; exits with 0 when every
 * worker drained in time, 1 otherwise, 2 when the first worker could not start for a reason
 * the flags must fix (a required store missing).
 */
export async function runPrimary(config: ProxyConfig, count: number, log: Logger): Promise<void> {
  const slots = new Map<number, { worker: Worker; startedAt: number }>();
  let stopping: NodeJS.Signals | null = null;
  /** All workers listened once: from now on a worker that dies is replaced. */
  let started = false;
  let port = config.port;

  /** Starts worker `index`; resolves with its URL once it listens, rejects with its exit code if it dies first. */
  const fork = (index: number): Promise<string> => {
    const worker = cluster.fork({ [WORKER_ENV.index]: String(index), [WORKER_ENV.count]: String(count), [WORKER_ENV.port]: String(port) });
    slots.set(index, { worker, startedAt: Date.now() });
    return new Promise((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message?.pinlab === 'listening') resolve(message.url);
      });
      worker.once('exit', (code, signal) => {
        reject(new WorkerExit(code ?? 1));
        const slot = slots.get(index);
        if (slot?.worker !== worker) return;
        slots.delete(index);
        if (started && !stopping) restart(index, `${signal ?? `code ${code}`}`, Date.now() - slot.startedAt < QUICK_CRASH_MS);
      });
    });
  };

  const restart = (index: number, how: string, quick: boolean) => {
    log('error', `worker ${index} of ${count} exited (${how}): starting another${quick ? ` in ${RESTART_PAUSE_MS / 1000} s` : ''}`);
    setTimeout(() => {
      if (!stopping) fork(index).catch(() => {}); // its own exit restarts it again
    }, quick ? RESTART_PAUSE_MS : 0);
  };

  let url: string;
  try {
    // The first worker binds the port (so that `--port 0` picks one), the others join it.
    url = await fork(1);
    port = Number(new URL(url).port);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 2)));
  } catch (error) {
    return giveUp(error instanceof WorkerExit && error.code === 2 ? 2 : 1);
  }
  started = true;
  let metricsServer: Server | null = null;
  try {
    if (config.metricsPort !== null) metricsServer = await serveMetrics(config, () => ({ live: slots.size, draining: stopping !== null }));
  } catch (error) {
    log('error', (error as Error).message);
    return giveUp(1);
  }
  log('info', `pinlab-proxy ${config.replicaId} listening on ${url}`, {
    workers: count, store: config.store,
    metrics: metricsServer ? `http://${config.host}:${config.metricsPort}/metrics (summed over the workers)` : 'on --metrics-port only (with --workers)',
  });

  const stop = (signal: NodeJS.Signals) => {
    // A second SIGTERM changes nothing; SIGINT after SIGTERM cuts the drain short (as a lone proxy does).
    if (stopping === signal || stopping === 'SIGINT') return;
    const cut = stopping === 'SIGTERM';
    stopping = signal;
    log('info', `${signal}: ${signal === 'SIGTERM' ? 'draining' : 'stopping'} ${slots.size} worker(s)`);
    const codes = [...slots.values()].map(({ worker }) => new Promise<number>((resolve) => {
      if (worker.isDead()) resolve(worker.process.exitCode ?? 1);
      else worker.once('exit', (code) => resolve(code ?? 1));
      worker.process.kill(signal);
    }));
    void Promise.all(codes).then(async (exits) => {
      if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
      process.exit(cut || exits.some((code) => code !== 0) ? 1 : 0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  /** Could not start: the workers go, and so does the primary. */
  function giveUp(code: number): void {
    stopping = 'SIGKILL';
    for (const { worker } of slots.values()) worker.process.kill('SIGKILL');
    process.exit(code);
  }
}

class WorkerExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`worker exited with code ${code} before it listened`);
    this.code = code;
  }
}

/** The primary's `--metrics-port`: `/metrics` summed over the workers, `/healthz`, and `/readyz` (503 while draining or with no worker up). */
async function serveMetrics(config: ProxyConfig, state: () => { live: number; draining: boolean }): Promise<Server> {
  const registry = new AggregatorRegistry();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const { live, draining } = state();
    if (req.method === 'GET' && path === '/metrics') {
      registry.clusterMetrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
      );
    } else if (req.method === 'GET' && path === '/healthz') {
      json(200, { status: 'ok', replica: config.replicaId, store: config.store, workers: live });
    } else if (req.method === 'GET' && path === '/readyz') {
      const ready = !draining && live > 0;
      json(ready ? 200 : 503, { status: draining ? 'draining' : ready ? 'ready' : 'no workers', replica: config.replicaId, workers: live });
    } else {
      json(404, { error: `no route for ${req.method} ${path}; this port serves /metrics, /healthz and /readyz` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(
      error.code === 'EADDRINUSE' ? new Error(`port ${config.metricsPort} on ${config.host} is already in use (choose another with --metrics-port)`) : error,
    ));
    server.listen(config.metricsPort!, config.host, resolve);
  });
  return server;
}
