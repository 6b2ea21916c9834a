import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { messageOf } from '../../proxy-core/errors.ts';
import { ROOT } from '../paths.ts';
import { statusOf } from './docker-errors.ts';
import { hostNode } from './host-node.ts';
import {
  contentOf, contentTag, demoImageContent, hostNodeBaseContent, packageImageContent,
  type BaseImage, type ContextFile, type ImageContent,
} from './image-content.ts';

export interface ImageProgress {
  /** `base`, `context`, `build` or `ready`. */
  stage: string;
  message: string;
}
export type OnImageProgress = (event: ImageProgress) => void;

const PREFERRED_BASE = 'node:24-slim';
// Fixed so that the same content always makes the same context.
const MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * The demo backend's image, `pinlab-demo:<content hash>`: built once, then reused until
 * the demo's sources, its dependencies or the base change.
 */
export async function ensureDemoImage(docker: Docker, options: { onProgress?: OnImageProgress; root?: string } = {}): Promise<string> {
  const progress: OnImageProgress = options.onProgress ?? (() => {});
  const base = await ensureBaseImage(docker, progress);
  progress({ stage: 'context', message: 'collecting the demo backend and its dependencies' });
  return ensureImage(docker, await demoImageContent(options.root ?? ROOT, base), progress);
}

/**
 * An image of installed npm packages and their dependency closure under `/app/node_modules`,
 * on the lab's Node base, `<repo>:<content hash>`: how a Node MCP server that is a package
 * (`@modelcontextprotocol/server-everything`) becomes an image with no registry to pull from.
 */
export async function ensurePackageImage(
  docker: Docker,
  options: { repo: string; packages: string[]; cmd: string[]; root?: string; onProgress?: OnImageProgress },
): Promise<string> {
  const progress: OnImageProgress = options.onProgress ?? (() => {});
  const base = await ensureBaseImage(docker, progress);
  progress({ stage: 'context', message: `collecting ${options.packages.join(', ')} and their dependencies` });
  return ensureImage(docker, await packageImageContent(options.root ?? ROOT, options, base), progress);
}

/**
 * The lab's Node image, which demo pods and command pods run on: `node:24-slim` if it is
 * here or can be pulled, else one made of the host's own Node runtime.
 */
export async function ensureBaseImage(docker: Docker, progress: OnImageProgress = () => {}): Promise<BaseImage> {
  const preferred = (await inspectImage(docker, PREFERRED_BASE)) ?? (await tryPull(docker, PREFERRED_BASE, progress));
  if (preferred) {
    progress({ stage: 'base', message: `using ${PREFERRED_BASE}` });
    return { tag: PREFERRED_BASE, id: preferred };
  }
  if (process.platform !== 'linux') {
    throw new Error(`The Docker image ${PREFERRED_BASE} is not present, and the host's Node runtime can only be packed into an image on Linux (this is ${process.platform}). Run "docker pull ${PREFERRED_BASE}" once, then try again.`);
  }
  const node = hostNode();
  if (node.electron) {
    throw new Error(`The Docker image ${PREFERRED_BASE} is not present and cannot be pulled, and no Node >= 22.18 is on the PATH to build a base from. Install Node, or run "docker pull ${PREFERRED_BASE}" once, then try again (or use the process runtime).`);
  }
  progress({ stage: 'base', message: `${PREFERRED_BASE} is not present: the base is the host's Node runtime (${node.path})` });
  const tag = await ensureImage(docker, await hostNodeBaseContent(node.path), progress);
  const id = await inspectImage(docker, tag);
  if (!id) throw new Error(`the base image ${tag} disappeared right after it was built`);
  return { tag, id };
}

/**
 * Pulls an image when a registry is reachable; null when not (no registry answers here at
 * once). `PINLAB_OFFLINE=1` skips the attempt: CI and tests never reach for the network.
 */
export async function tryPull(docker: Docker, image: string, progress: OnImageProgress = () => {}, stage = 'base'): Promise<string | null> {
  if (offline()) return null;
  progress({ stage, message: `pulling ${image}` });
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 120 s')), 120_000);
      docker.modem.followProgress(stream, (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      });
    });
    return await inspectImage(docker, image);
  } catch (error) {
    progress({ stage, message: `cannot pull ${image}: ${messageOf(error).split('\n')[0]}` });
    return null;
  }
}

/** `PINLAB_OFFLINE=1`: the lab pulls no image. */
export function offline(): boolean {
  return process.env.PINLAB_OFFLINE === '1';
}

/** The image's id, or null when there is no image with that name. */
export async function inspectImage(docker: Docker, name: string): Promise<string | null> {
  try {
    return (await docker.getImage(name).inspect()).Id;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/** The content's image, tagged by its hash; built only when no image has that tag (the proxy's offline image too: deploy/docker/). */
export async function ensureImage(docker: Docker, content: ImageContent, progress: OnImageProgress): Promise<string> {
  const tag = await contentTag(content);
  if (await inspectImage(docker, tag)) {
    progress({ stage: 'ready', message: `reusing ${tag}` });
    return tag;
  }
  progress({ stage: 'build', message: `building ${tag} (${content.files.length} files)` });
  await build(docker, tag, content, progress);
  progress({ stage: 'ready', message: `built ${tag}` });
  return tag;
}

/** Streams the context to the engine as a tar while it is being written, and follows the build. */
async function build(docker: Docker, tag: string, content: ImageContent, progress: OnImageProgress): Promise<void> {
  const pack = tar.pack();
  const add = (file: ContextFile) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      const header = { name: file.name, mode: file.mode, mtime: MTIME, uid: 0, gid: 0 };
      if ('directory' in file) pack.entry({ ...header, type: 'directory' }, done);
      else void contentOf(file).then((bytes) => pack.entry({ ...header, size: bytes.length }, bytes, done), reject);
    });
  const writing = (async () => {
    await add({ name: 'Dockerfile', mode: 0o644, content: Buffer.from(content.dockerfile) });
    for (const file of content.files) await add(file);
    pack.finalize();
  })();
  writing.catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(messageOf(error))));
  try {
    await follow(docker, tag, await docker.buildImage(Readable.from(pack), { t: tag, rm: true, forcerm: true }), progress);
    await writing;
  } finally {
    // A failed build stops reading: stop writing too.
    pack.destroy();
  }
  if (!(await inspectImage(docker, tag))) throw new Error(`building ${tag} finished without an image`);
}

/** Reports the build's output lines; fails with the build's own error message. */
function follow(docker: Docker, tag: string, output: NodeJS.ReadableStream, progress: OnImageProgress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: string | null = null;
    docker.modem.followProgress(
      output,
      (error) => {
        if (error) reject(new Error(`building ${tag} failed: ${error.message}`));
        else if (failure) reject(new Error(`building ${tag} failed: ${failure}`));
        else resolve();
      },
      (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
        if (event.error || event.errorDetail) failure = event.errorDetail?.message ?? event.error ?? 'unknown error';
        const message = (event.stream ?? event.status ?? '').trim();
        if (message) progress({ stage: 'build', message });
      },
    );
  });
}
