import type { Socket } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { transportCause } from './upstream.ts';
import { endpointKey, podAddress, type Endpoint } from './service.ts';

export interface HealthOptions {
  /** Milliseconds from one probe of a pod to the next; 0 turns probing off (every pod counts as healthy). */
  intervalMs: number;
  /** A probe not answered within this many milliseconds failed. */
  timeoutMs: number;
  /** Failed probes in a row that make a pod unhealthy; one answered probe makes it healthy again. */
  unhealthyAfter: number;
}

/** A replica's verdict on a pod, given when it changes. */
export interface HealthVerdict {
  /** `host:port`, as the backend URL names it. */
  pod: string;
  health: 'healthy' | 'unhealthy';
  /** What the last probe saw: `answered 405`, `no answer within 1000 ms`, `connect-refused`. */
  reason: string;
  /** Failed probes in a row. */
  failures: number;
  /** Set when a request's failed connection made the pod unhealthy, before its probes did (see `suspect`). */
  byRequest?: true;
}

interface Probed {
  key: string;
  healthy: boolean;
  failures: number;
  /** Its last failure was a refused or closed connection (nothing serves there), not a probe left unanswered. */
  refusing: boolean;
  timer: NodeJS.Timeout | null;
  running: AbortController | null;
}

/**
 * Watches every endpoint of the service on this replica's own timer (DESIGN.md item 10).
 * A probe is `OPTIONS` on the MCP path: any HTTP answer passes — 204, 405, 401 alike — and
 * no answer in time fails. OPTIONS has no meaning in MCP, so it opens no session and no
 * stream and runs no handler: it costs the pod one parsed request (see the README's figure).
 * Probes use their own connections, one per pod, kept alive between probes.
 */
export class HealthMonitor {
  private readonly options: HealthOptions;
  private readonly path: string;
  private readonly onVerdict: (verdict: HealthVerdict) => void;
  private readonly pods = new Map<string, Probed>();
  /** Pods that failed, under every name they go by (the URL's, and the address reached). */
  private readonly unhealthy = new Set<string>();
  /** Address a probe's connection reached → the endpoint key it was dialled for (they differ for host names). */
  private readonly aliases = new Map<string, string>();
  private readonly agent: Agent;
  private closed = false;

  constructor(options: HealthOptions, path: string, onVerdict: (verdict: HealthVerdict) => void) {
    this.options = options;
    this.path = path;
    this.onVerdict = onVerdict;
    const dial = buildConnector({ timeout: options.timeoutMs });
    this.agent = new Agent({
      connections: 1,
      connect: (connectOptions, callback) => dial(connectOptions, (error, socket) => {
        if (socket) {
          const address = podAddress(socket as Socket);
          const key = endpointKey({ hostname: connectOptions.hostname.replace(/^\[|\]$/g, ''), port: connectOptions.port });
          if (address !== key) this.aliases.set(address, key);
        }
        if (error) callback(error, null);
        else callback(null, socket as Socket);
      }),
    });
  }

  get enabled(): boolean {
    return this.options.intervalMs > 0;
  }

  /** The pods to watch now: new ones are probed at once, gone ones forgotten. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    if (!this.enabled || this.closed) return;
    const keys = new Set(endpoints.map(endpointKey));
    for (const [key, pod] of this.pods) {
      if (keys.has(key)) continue;
      if (pod.timer) clearTimeout(pod.timer);
      pod.running?.abort();
      this.pods.delete(key);
      this.markHealthy(key);
    }
    for (const key of keys) {
      if (this.pods.has(key)) continue;
      const pod: Probed = { key, healthy: true, failures: 0, refusing: false, timer: null, running: null };
      this.pods.set(key, pod);
      void this.probe(pod);
    }
  }

  /** Whether `pod` (`host:port`, as records and events name it) passes its probes; pods never probed do. */
  isHealthy(pod: string): boolean {
    return this.unhealthy.size === 0 || !this.unhealthy.has(pod);
  }

  /**
   * Whether `pod` (an endpoint key) is unhealthy because nothing serves there (its last probe,
   * or a request, found the connection refused or closed) rather than because it is silent.
   * When no pod passes, the service still tries silent ones (a starved machine) but not these.
   */
  isRefusing(pod: string): boolean {
    return this.pods.get(pod)?.refusing === true;
  }

  /** Every name `pod` (an endpoint key) goes by: itself, and the addresses its connections reached. */
  namesOf(pod: string): string[] {
    const names = [pod];
    for (const [address, key] of this.aliases) if (key === pod) names.push(address);
    return names;
  }

  /**
   * A request saw `pod` (a watched endpoint key, or an address one reached) fail a fresh
   * connection: unhealthy at once, without waiting for its probes; its next answered probe
   * makes it healthy again. Nothing happens while probing is off or for pods not watched.
   */
  suspect(pod: string, reason: string): void {
    const probed = this.pods.get(pod) ?? this.pods.get(this.aliases.get(pod) ?? '');
    if (!probed || !probed.healthy) return;
    probed.failures = Math.max(probed.failures, this.options.unhealthyAfter);
    probed.healthy = false;
    probed.refusing = true;
    for (const name of this.namesOf(probed.key)) this.unhealthy.add(name);
    this.onVerdict({ pod: probed.key, health: 'unhealthy', reason, failures: probed.failures, byRequest: true });
  }

  /** Every watched pod's state now. */
  states(): { pod: string; healthy: boolean; failures: number }[] {
    return [...this.pods.values()].map((p) => ({ pod: p.key, healthy: p.healthy, failures: p.failures }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pod of this.pods.values()) {
      if (pod.timer) clearTimeout(pod.timer);
      pod.running?.abort();
    }
    this.pods.clear();
    await this.agent.destroy();
  }

  private async probe(pod: Probed): Promise<void> {
    pod.timer = null;
    const started = performance.now();
    const running = new AbortController();
    pod.running = running;
    const timer = setTimeout(() => running.abort(), this.options.timeoutMs);
    let answered = false;
    let reason: string;
    try {
      const response = await this.agent.request({
        origin: `http://${pod.key}`, path: this.path, method: 'OPTIONS', signal: running.signal,
        headers: { 'user-agent': 'pinlab-proxy health probe' },
      });
      await response.body.dump();
      answered = true;
      reason = `answered ${response.statusCode}`;
    } catch (error) {
      reason = running.signal.aborted ? `no answer within ${this.options.timeoutMs} ms` : (transportCause(error) ?? (error as Error).message);
    } finally {
      clearTimeout(timer);
      pod.running = null;
    }
    if (this.closed || this.pods.get(pod.key) !== pod) return;
    pod.refusing = !answered && !running.signal.aborted;
    this.judge(pod, answered, reason);
    pod.timer = setTimeout(() => void this.probe(pod), Math.max(0, this.options.intervalMs - (performance.now() - started)));
    pod.timer.unref();
  }

  private judge(pod: Probed, answered: boolean, reason: string): void {
    if (answered) {
      pod.failures = 0;
      if (pod.healthy) return;
      pod.healthy = true;
      this.markHealthy(pod.key);
    } else {
      pod.failures++;
      if (!pod.healthy || pod.failures < this.options.unhealthyAfter) return;
      pod.healthy = false;
      for (const name of this.namesOf(pod.key)) this.unhealthy.add(name);
    }
    this.onVerdict({ pod: pod.key, health: pod.healthy ? 'healthy' : 'unhealthy', reason, failures: pod.failures });
  }

  private markHealthy(key: string): void {
    for (const name of this.namesOf(key)) this.unhealthy.delete(name);
  }
}
