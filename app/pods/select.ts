import { messageOf } from '../../proxy-core/errors.ts';
import type { RuntimeChoice } from '../config.ts';
import { ProcessRuntime } from './process-runtime.ts';
import type { ImageProgress } from './image-build.ts';
import type { PodRuntime } from './runtime.ts';

export interface SelectedRuntime {
  runtime: PodRuntime;
  /** Why this runtime, in a sentence for the user. */
  note: string;
}

/**
 * `docker` or `process` as asked; `auto` uses Docker when the engine answers and says why
 * when it falls back to processes.
 */
export async function selectRuntime(
  kind: RuntimeChoice,
  labId: string,
  onImageProgress?: (progress: ImageProgress) => void,
): Promise<SelectedRuntime> {
  if (kind === 'process') return { runtime: new ProcessRuntime({ labId }), note: 'pods run as local processes (runtime: process)' };
  try {
    // Loaded only when wanted: the process runtime needs none of dockerode.
    const { DockerRuntime } = await import('./docker-runtime.ts');
    const runtime = await DockerRuntime.connect({ labId, onImageProgress });
    return { runtime, note: 'pods run as Docker containers, ports published on 127.0.0.1' };
  } catch (error) {
    if (kind === 'docker') throw error;
    return {
      runtime: new ProcessRuntime({ labId }),
      note: `Docker is not reachable (${messageOf(error)}): pods run as local processes instead`,
    };
  }
}
