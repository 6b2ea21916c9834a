import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { isAlive } from '../pods/alive.ts';
import { DEFAULT_SOCKET, LAB_LABEL } from '../pods/docker-runtime.ts';
import { PID_ROOT } from '../pods/process-runtime.ts';
import type { PodInfo, PodRuntime } from '../pods/runtime.ts';

/** What a stopped lab left on this machine. */
export interface Leftovers {
  /** Containers labelled with the lab's id, in any state; null when Docker does not answer (then there can be none). */
  containers: number | null;
  /** Pod processes (a process pod's, or a container's main process on the host) still running. */
  processes: number;
  /** The process runtime's pid files of the lab still on disk. */
  pidFiles: number;
}

/**
 * Remembers the host process of every pod a lab runs — the child's pid, or a container's
 * main process as Docker reports it — so that after the lab stops, the soak can check that
 * each one is gone. Pods come and go every second or two: `watch` lists them often.
 */
export class PodWitness {
  private readonly docker: Docker | null;
  /** Host pid → pod name (checked against the process's command line: pids are reused). */
  private readonly pids = new Map<number, string>();
  private readonly seen = new Set<string>();
  private readonly lookups = new Set<Promise<void>>();

  constructor(runtime: PodRuntime['kind']) {
    this.docker = runtime === 'docker' ? new Docker({ socketPath: DEFAULT_SOCKET }) : null;
  }

  /** Pods seen so far. */
  get pods(): number {
    return this.seen.size;
  }

  record(pods: readonly PodInfo[]): void {
    for (const pod of pods) {
      const key = `${pod.name} ${pod.id}`;
      if (!pod.id || this.seen.has(key)) continue;
      this.seen.add(key);
      if (!this.docker) {
        this.pids.set(Number(pod.id), pod.name);
        continue;
      }
      const lookup = this.docker.getContainer(pod.id).inspect().then(
        (container) => {
          if (container.State.Pid > 0) this.pids.set(container.State.Pid, pod.name);
        },
        () => {}, // already removed: its processes went with it
      );
      this.lookups.add(lookup);
      void lookup.finally(() => this.lookups.delete(lookup));
    }
  }

  /** Lists `pods()` every `everyMs` until the returned stop is called. */
  watch(pods: () => readonly PodInfo[], everyMs = 250): () => void {
    const timer = setInterval(() => this.record(pods()), everyMs);
    return () => clearInterval(timer);
  }

  /** What the lab `labId` left behind, once it has stopped. */
  async leftovers(labId: string): Promise<Leftovers> {
    await Promise.all(this.lookups);
    const processes = [...this.pids].filter(([pid, pod]) => isAlive(pid) && runsPod(pid, pod)).length;
    const dir = join(PID_ROOT, labId);
    const pidFiles = existsSync(dir) ? readdirSync(dir).length : 0;
    return { containers: await containersOf(labId), processes, pidFiles };
  }
}

/** Whether process `pid` is still pod `pod` (its command line names it), not a later process given the same pid. */
function runsPod(pid: number, pod: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`--pod ${pod}`);
  } catch {
    return process.platform !== 'linux'; // no /proc to ask: alive is all that is known
  }
}

/** Containers of lab `labId` in any state (`docker ps -a --filter label=pinlab.lab=<id>`); null when Docker does not answer. */
async function containersOf(labId: string): Promise<number | null> {
  try {
    const containers = await new Docker({ socketPath: DEFAULT_SOCKET, timeout: 5000 }).listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${labId}`] } });
    return containers.length;
  } catch {
    return null;
  }
}
