import type { PodEvent, PodInfo, PodState } from './runtime.ts';

/**
 * The pods a runtime has started, by name, and who listens to their changes: one table for
 * both runtimes, so that they list, find and report pods alike. `P` is the runtime's own
 * record of a pod (its container or child process), around what the lab sees of it.
 */
export class PodTable<P extends { info: PodInfo }> {
  private readonly pods = new Map<string, P>();
  private readonly listeners = new Set<(event: PodEvent) => void>();

  // `onEvent` and `list` are bound: a runtime hands them out as its own (`readonly list = this.pods.list`).

  /** Pod state changes. Returns an unsubscribe. */
  readonly onEvent = (listener: (event: PodEvent) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Copies, by name (pod-2 before pod-10), not by which parallel start got there first. */
  readonly list = (): PodInfo[] =>
    [...this.pods.values()].map((pod) => ({ ...pod.info })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));

  /** The pod named `name`; throws, naming the pods there are, when there is none. */
  get(name: string): P {
    const pod = this.pods.get(name);
    if (!pod) throw new Error(`no pod named ${name} (pods: ${[...this.pods.keys()].join(', ') || 'none'})`);
    return pod;
  }

  /** Throws when a pod of that name runs: a second start would lose track of the first. */
  assertFree(name: string): void {
    const existing = this.pods.get(name);
    if (existing && existing.info.state !== 'dead') throw new Error(`pod ${name} is already running (${existing.info.state})`);
  }

  /** The pod whose container or process has this id. */
  byId(id: string | undefined): P | undefined {
    return [...this.pods.values()].find((pod) => pod.info.id === id);
  }

  /** Adds a pod, or replaces the one of the same name (a restart's new container or process). */
  set(pod: P): void {
    this.pods.set(pod.info.name, pod);
  }

  delete(name: string): void {
    this.pods.delete(name);
  }

  clear(): void {
    this.pods.clear();
  }

  values(): P[] {
    return [...this.pods.values()];
  }

  /** Whether `pod` is still the table's pod of its name, not one a restart has replaced. */
  holds(pod: P): boolean {
    return this.pods.get(pod.info.name) === pod;
  }

  /**
   * Moves a pod to `state` and tells the listeners. Nothing happens when the pod is in that
   * state already (Docker reports a kill the lab made itself), or is no longer the table's
   * pod of its name (the late death of a container or process a restart replaced).
   */
  update(pod: P, state: PodState, reason: string): void {
    if (pod.info.state === state || !this.holds(pod)) return;
    pod.info.state = state;
    const event: PodEvent = { pod: pod.info.name, state, reason, at: Date.now() };
    for (const listener of this.listeners) listener(event);
  }
}

/** What the lab sees of a pod that has just been started on 127.0.0.1:`port`, serving MCP at `path`. */
export function startingPod(name: string, port: number, path: string, id: string): PodInfo {
  return { name, state: 'starting', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}${path}`, id, startedAt: Date.now() };
}
