import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** An entry of a build context: a file read from the host, a file given inline, or a directory. */
export type ContextFile =
  | { name: string; mode: number; source: string }
  | { name: string; mode: number; content: Buffer }
  | { name: string; mode: number; directory: true };

/** What an image is made of; the same content always gives the same tag. */
export interface ImageContent {
  /** The image's repository: `pinlab-demo`, `pinlab-node-base`, a package image's name. */
  repo: string;
  dockerfile: string;
  /** The build context, besides the Dockerfile. */
  files: ContextFile[];
  /** What the image is built on, beyond its Dockerfile (`<base tag>@<base id>`): a new base is a new image. */
  base: string;
}

/** The lab's Node image an image is built on, by tag and id. */
export interface BaseImage {
  tag: string;
  id: string;
}

const DEMO_PACKAGES = ['@modelcontextprotocol/server', '@hono/node-server', 'ioredis', 'zod', 'commander'];

/** The demo backend's sources and the packages it needs, on `base`, run by `node`. */
export async function demoImageContent(root: string, base: BaseImage): Promise<ImageContent> {
  const files = [...(await demoFiles(root)), ...(await packageTreeFiles(root, DEMO_PACKAGES, 'the demo backend'))];
  return { repo: 'pinlab-demo', dockerfile: appDockerfile(base.tag, ['node', 'app/demo-backend/main.ts']), files, base: baseRef(base) };
}

/** Installed npm packages and their dependency closure under `/app/node_modules`, on `base`, run by `cmd`. */
export async function packageImageContent(root: string, image: { repo: string; packages: string[]; cmd: string[] }, base: BaseImage): Promise<ImageContent> {
  const pkg = { name: image.repo, private: true, type: 'module' };
  const files: ContextFile[] = [
    { name: 'files/package.json', mode: 0o644, content: Buffer.from(JSON.stringify(pkg, null, 2) + '\n') },
    ...(await packageTreeFiles(root, image.packages, image.repo)),
  ];
  return { repo: image.repo, dockerfile: appDockerfile(base.tag, image.cmd), files, base: baseRef(base) };
}

/**
 * A Node base made of the host's own runtime, for where no `node` image can be pulled: the
 * binary at `nodePath` and every shared library it loads, on `scratch`. Linux only (`ldd`).
 */
export async function hostNodeBaseContent(nodePath: string): Promise<ImageContent> {
  const { files, libraryDirs } = await hostRuntimeFiles(nodePath);
  const dockerfile = [
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin',
    // No /etc/ld.so.cache in a scratch image: tell the loader where the libraries are.
    `ENV LD_LIBRARY_PATH=${libraryDirs.join(':')}`,
    'CMD ["node"]',
    '',
  ].join('\n');
  return { repo: 'pinlab-node-base', dockerfile, files, base: '' };
}

/** `<repo>:<hash of the Dockerfile, the base and every file>`: the tag an image of this content has. */
export async function contentTag(content: ImageContent): Promise<string> {
  const sorted = [...content.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const digests = await mapConcurrently(sorted, 32, async (file) => createHash('sha256').update(await contentOf(file)).digest('hex'));
  const hash = createHash('sha256').update(content.dockerfile).update('\0').update(content.base).update('\0');
  sorted.forEach((file, i) => hash.update(`${file.name}\0${file.mode}\0${'directory' in file ? 'dir' : digests[i]}\n`));
  return `${content.repo}:${hash.digest('hex').slice(0, 12)}`;
}

/** A context entry's bytes (none for a directory). */
export async function contentOf(file: ContextFile): Promise<Buffer> {
  if ('directory' in file) return Buffer.alloc(0);
  return 'content' in file ? file.content : readFile(file.source);
}

/** How an image's content names its base: a rebuilt base is a new image. */
export function baseRef(base: BaseImage): string {
  return `${base.tag}@${base.id}`;
}

/** `files/` copied into `/app` on `base`. */
function appDockerfile(base: string, cmd: string[]): string {
  return [`FROM ${base}`, 'WORKDIR /app', 'COPY files/ /app/', `CMD [${cmd.map((arg) => JSON.stringify(arg)).join(', ')}]`, ''].join('\n');
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
export async function packageTreeFiles(root: string, names: string[], neededBy: string): Promise<ContextFile[]> {
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

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
