import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { ROOT } from '../paths.ts';
import { hostNode } from './host-node.ts';

export interface ImageProgress {
  /** `base`, `context`, `build` or `ready`. */
  stage: string;
  message: string;
}
export type OnImageProgress = (event: ImageProgress) => void;

/** An entry of a build context: a file read from the host, a file given inline, or a directory. */
type ContextFile =
  | { name: string; mode: number; source: string }
  | { name: string; mode: number; content: Buffer }
  | { name: string; mode: number; directory: true };

const PREFERRED_BASE = 'node:24-slim';
const DEMO_PACKAGES = ['@modelcontextprotocol/sdk', 'zod', 'commander'];
// Fixed so that the same content always makes the same context, and the same hash.
const MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * The demo backend's image, `pinlab-demo:<content hash>`: built once, then reused until
 * the demo's sources, its dependencies or the base change.
 */
export async function ensureDemoImage(docker: Docker, options: { onProgress?: OnImageProgress; root?: string } = {}): Promise<string> {
  const progress: OnImageProgress = options.onProgress ?? (() => {});
  const root = options.root ?? ROOT;
  const base = await ensureBaseImage(docker, progress);
  progress({ stage: 'context', message: 'collecting the demo backend and its dependencies' });
  const files = [...(await demoFiles(root)), ...(await packageTreeFiles(root, DEMO_PACKAGES, 'the demo backend'))];
  return ensureImage(docker, 'pinlab-demo', appDockerfile(base.tag, ['node', 'app/demo-backend/main.ts']), files, `${base.tag}@${base.id}`, progress);
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
  const root = options.root ?? ROOT;
  const base = await ensureBaseImage(docker, progress);
  progress({ stage: 'context', message: `collecting ${options.packages.join(', ')} and their dependencies` });
  const pkg = { name: options.repo, private: true, type: 'module' };
  const files: ContextFile[] = [
    { name: 'files/package.json', mode: 0o644, content: Buffer.from(JSON.stringify(pkg, null, 2) + '\n') },
    ...(await packageTreeFiles(root, options.packages, options.repo)),
  ];
  return ensureImage(docker, options.repo, appDockerfile(base.tag, options.cmd), files, `${base.tag}@${base.id}`, progress);
}

/** `files/` copied into `/app` on `base`. */
function appDockerfile(base: string, cmd: string[]): string {
  return [`FROM ${base}`, 'WORKDIR /app', 'COPY files/ /app/', `CMD [${cmd.map((arg) => JSON.stringify(arg)).join(', ')}]`, ''].join('\n');
}

/**
 * The lab's Node image, which demo pods and command pods run on: `node:24-slim` if it is
 * here or can be pulled, else one made of the host's own Node runtime.
 */
export async function ensureBaseImage(docker: Docker, progress: OnImageProgress = () => {}): Promise<{ tag: string; id: string }> {
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
  const { files, libraryDirs } = await hostRuntimeFiles(node.path);
  const dockerfile = [
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin',
    // No /etc/ld.so.cache in a scratch image: tell the loader where the libraries are.
    `ENV LD_LIBRARY_PATH=${libraryDirs.join(':')}`,
    'CMD ["node"]',
    '',
  ].join('\n');
  const tag = await ensureImage(docker, 'pinlab-node-base', dockerfile, files, '', progress);
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
    progress({ stage, message: `cannot pull ${image}: ${(error as Error).message.split('\n')[0]}` });
    return null;
  }
}

/** `PINLAB_OFFLINE=1`: the lab pulls no image. */
export function offline(): boolean {
  return process.env.PINLAB_OFFLINE === '1';
}

/** The Node binary and every shared library `ldd` says it loads, at the same paths. */
async function hostRuntimeFiles(nodePath: string): Promise<{ files: ContextFile[]; libraryDirs: string[] }> {
  const { stdout } = await promisify(execFile)('ldd', [nodePath]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const missing = /^\s*(\S+) => not found/.exec(line);
    if (missing) throw new Error(`ldd ${nodePath}: ${missing[1]} not found`);
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  if (libraries.length === 0) throw new Error(`ldd ${nodePath} listed no shared libraries: is it a static binary? (${stdout.trim()})`);
  const files: ContextFile[] = [
    { name: 'rootfs/usr/local/bin/node', mode: 0o755, source: await realpath(nodePath) },
    { name: 'rootfs/tmp', mode: 0o1777, directory: true },
  ];
  // A library path is often a symlink (/lib64/ld-linux…): the image gets the file it points to.
  for (const library of libraries) files.push({ name: `rootfs${library}`, mode: 0o755, source: await realpath(library) });
  const libraryDirs = [...new Set(libraries.map((library) => path.dirname(library)))];
  return { files, libraryDirs };
}

/** `app/demo-backend/*.ts` and a minimal package.json, under `files/`. */
async function demoFiles(root: string): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  const demoDir = path.join(root, 'app/demo-backend');
  for (const name of (await readdir(demoDir)).sort()) {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      files.push({ name: `files/app/demo-backend/${name}`, mode: 0o644, source: path.join(demoDir, name) });
    }
  }
  const pkg = { name: 'pinlab-demo-backend', private: true, type: 'module' };
  files.push({ name: 'files/package.json', mode: 0o644, content: Buffer.from(JSON.stringify(pkg, null, 2) + '\n') });
  return files;
}

/** The installed packages `names` and their dependency closure, each at its `node_modules` path under `files/`. */
async function packageTreeFiles(root: string, names: string[], neededBy: string): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  for (const dir of await dependencyClosure(root, names, neededBy)) {
    for (const file of await packageFiles(path.join(root, dir))) {
      files.push({ name: `files/${dir}/${file.relative}`, mode: file.mode, source: file.source });
    }
  }
  return files;
}

/**
 * The installed packages `names` need, as paths relative to `root` (`node_modules/a`,
 * `node_modules/a/node_modules/b`): `dependencies`, and the peer or optional ones that are installed.
 */
export async function dependencyClosure(root: string, names: string[], neededBy = 'the demo backend'): Promise<string[]> {
  const found = new Set<string>();
  const queue = names.map((name) => ({ name, from: root, optional: false }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    const dir = await resolvePackage(root, next.from, next.name);
    if (!dir) {
      if (next.optional) continue;
      throw new Error(`${next.name}, needed by ${path.relative(root, next.from) || neededBy}, is not installed (run npm install)`);
    }
    const relative = path.relative(root, dir);
    if (found.has(relative)) continue;
    found.add(relative);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const name of Object.keys(manifest.dependencies ?? {})) queue.push({ name, from: dir, optional: optional.has(name) });
    for (const name of [...optional, ...Object.keys(manifest.peerDependencies ?? {})]) queue.push({ name, from: dir, optional: true });
  }
  return [...found].sort();
}

/** Where `require(name)` from `from` finds the package, as Node looks: up through node_modules dirs, not above `root`. */
async function resolvePackage(root: string, from: string, name: string): Promise<string | null> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name);
      if (await isFile(path.join(candidate, 'package.json'))) return candidate;
    }
    if (dir === root || path.relative(root, dir).startsWith('..') || dir === path.dirname(dir)) return null;
  }
}

/** A package's files, without its own node_modules (its dependencies are added on their own). */
async function packageFiles(dir: string): Promise<Array<{ relative: string; source: string; mode: number }>> {
  const out: Array<{ relative: string; source: string; mode: number }> = [];
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, relative))).sort()) {
      if (name === 'node_modules') continue;
      const child = relative ? `${relative}/${name}` : name;
      const source = path.join(dir, child);
      const info = await stat(source);
      if (info.isDirectory()) await walk(child);
      else if (info.isFile()) out.push({ relative: child, source, mode: info.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await walk('');
  return out;
}

/**
 * `<repo>:<hash of dockerfile, extra and every file>`; built only when no image has that tag.
 */
async function ensureImage(docker: Docker, repo: string, dockerfile: string, files: ContextFile[], extra: string, progress: OnImageProgress): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const digests = await mapConcurrently(sorted, 32, async (file) => createHash('sha256').update(await contentOf(file)).digest('hex'));
  const hash = createHash('sha256').update(dockerfile).update('\0').update(extra).update('\0');
  sorted.forEach((file, i) => hash.update(`${file.name}\0${file.mode}\0${'directory' in file ? 'dir' : digests[i]}\n`));
  const tag = `${repo}:${hash.digest('hex').slice(0, 12)}`;
  if (await inspectImage(docker, tag)) {
    progress({ stage: 'ready', message: `reusing ${tag}` });
    return tag;
  }
  progress({ stage: 'build', message: `building ${tag} (${files.length} files)` });
  await build(docker, tag, dockerfile, files, progress);
  progress({ stage: 'ready', message: `built ${tag}` });
  return tag;
}

/** Streams the context to the engine as a tar while it is being written, and follows the build. */
async function build(docker: Docker, tag: string, dockerfile: string, files: ContextFile[], progress: OnImageProgress): Promise<void> {
  const pack = tar.pack();
  const add = (file: ContextFile) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      const header = { name: file.name, mode: file.mode, mtime: MTIME, uid: 0, gid: 0 };
      if ('directory' in file) pack.entry({ ...header, type: 'directory' }, done);
      else void contentOf(file).then((content) => pack.entry({ ...header, size: content.length }, content, done), reject);
    });
  const writing = (async () => {
    await add({ name: 'Dockerfile', mode: 0o644, content: Buffer.from(dockerfile) });
    for (const file of files) await add(file);
    pack.finalize();
  })();
  writing.catch((error: unknown) => pack.destroy(error as Error));
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

/** `map` with at most `limit` calls in flight: thousands of small files read one by one are slow. */
async function mapConcurrently<T, R>(items: T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await map(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function contentOf(file: ContextFile): Promise<Buffer> {
  if ('directory' in file) return Buffer.alloc(0);
  return 'content' in file ? file.content : readFile(file.source);
}

/** The image's id, or null when there is no image with that name. */
export async function inspectImage(docker: Docker, name: string): Promise<string | null> {
  try {
    return (await docker.getImage(name).inspect()).Id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
