import type { z } from 'zod';
import type { backendSchema } from '../config.ts';

/** What runs one backend MCP server: the demo backend, or the user's own (image or command). */
export type BackendSpec = z.output<typeof backendSchema>;

export type PodState = 'starting' | 'ready' | 'paused' | 'dead';

/** One pod as the lab sees it. */
export interface PodInfo {
  /** `pod-1`, `pod-2`, …: never reused within a lab run, so a replacement is a new name. */
  name: string;
  state: PodState;
  /** `127.0.0.1:<port>`: how proxy-core names the pod in records and events. */
  address: string;
  /** The pod's MCP URL, as the service lists it. */
  url: string;
  /** Docker container id, or process id. */
  id: string;
  startedAt: number;
}

/** A change to a pod, pushed by the runtime (Docker events, child process exits). */
export interface PodEvent {
  pod: string;
  state: PodState;
  /** Why, in words a person reads: "killed", "exited with code 1", "container died". */
  reason: string;
  at: number;
}

/**
 * Starts and breaks pods. Two implementations: Docker containers (default) and local
 * processes (when Docker is not reachable). Every pod a runtime creates is labelled with
 * the lab's id so that a crashed run's leftovers can be found and removed.
 */
export interface PodRuntime {
  readonly kind: 'docker' | 'process';
  /** Removes what a previous (crashed) run of any lab left behind. */
  removeOrphans(): Promise<number>;
  /** Starts a pod and resolves once it answers an MCP initialize. */
  start(name: string, backend: BackendSpec): Promise<PodInfo>;
  /** SIGKILL: the pod is gone, its address with it. */
  kill(name: string): Promise<void>;
  /** Stop and start again at the same address: memory lost. Resolves when ready. */
  restart(name: string): Promise<PodInfo>;
  pause(name: string): Promise<void>;
  unpause(name: string): Promise<void>;
  /** The pod's recent output. */
  logs(name: string, lines?: number): Promise<string>;
  list(): PodInfo[];
  /** The id (`sha256:…`) of the image a pod runs, for runtimes that run images; null when unknown. */
  imageId?(name: string): Promise<string | null>;
  /** Pod state changes (a pod that dies by itself included). Returns an unsubscribe. */
  onEvent(listener: (event: PodEvent) => void): () => void;
  /** Removes every pod of this lab. */
  close(): Promise<void>;
}
