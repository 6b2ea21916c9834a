// The pinlab-proxy image without a registry: deploy/docker/Dockerfile's final stage, built on the
// lab's Node base (the host's own Node runtime when node:24-slim cannot be pulled) the way the
// lab builds its demo image, from what the Dockerfile's build stage would have left in /src.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import ts from 'typescript';
import { ensureBaseImage, ensureImage, type OnImageProgress } from '../../app/pods/image-build.ts';
import { baseRef, packageTreeFiles, type BaseImage, type ContextFile, type ImageContent } from '../../app/pods/image-content.ts';
import { ROOT } from '../../app/paths.ts';
import { execForm, instructionsOf, parseDockerfile, type Dockerfile, type Stage } from './dockerfile.ts';
import { buildConfig, runtimePackage, shippedProxyFiles } from './runtime-package.ts';

/** The repository of the offline image's content tags: `pinlab-proxy:<content hash>`. */
export const OFFLINE_REPO = 'pinlab-proxy';
/** Where the lab's base images have Node: the host-Node base and node:24-slim alike. */
export const BASE_NODE = '/usr/local/bin/node';

/** The offline image's Dockerfile, and the build-stage paths its COPY instructions take. */
export interface OfflineDockerfile {
  text: string;
  /** Paths relative to the build stage's WORKDIR (`package.json`, `dist/proxy-core`): the context holds them under `files/`. */
  sources: string[];
}

/**
 * The pinlab-proxy image, `pinlab-proxy:<content hash>`, built on the lab's Node base: built
 * once, then reused until the proxy's sources, its dependencies, the Dockerfile or the base change.
 */
export async function ensureProxyImage(docker: Docker, options: { root?: string; onProgress?: OnImageProgress } = {}): Promise<string> {
  const { root = ROOT, onProgress: progress = () => {} } = options;
  const base = await ensureBaseImage(docker, progress);
  progress({ stage: 'context', message: 'compiling proxy-core (tsconfig.build.json) and collecting its runtime dependencies' });
  return ensureImage(docker, proxyImageContent(root, base, await buildStageFiles(root)), progress);
}

/** The Dockerfile's final stage on `base`, with the build stage's files it copies and no others. */
export function proxyImageContent(root: string, base: BaseImage, buildStage: ContextFile[]): ImageContent {
  const dockerfile = offlineDockerfile(parseDockerfile(readFileSync(path.join(root, 'deploy/docker/Dockerfile'), 'utf8')), base.tag);
  const files = dockerfile.sources.flatMap((source) => {
    const taken = buildStage.filter((file) => file.name === `files/${source}` || file.name.startsWith(`files/${source}/`));
    if (taken.length === 0) throw new Error(`deploy/docker/Dockerfile copies ${source} from its build stage, which the offline build does not make (deploy/docker/offline-image.ts)`);
    return taken;
  });
  return { repo: OFFLINE_REPO, dockerfile: dockerfile.text, files, base: baseRef(base) };
}

/**
 * The Dockerfile's last stage, rewritten for the lab's base: FROM it (the base-image ARG names
 * it too, so the OCI base label is true), `COPY --from=<build stage>` from the context's
 * `files/`, and the distroless Node path in ENTRYPOINT and HEALTHCHECK replaced by the base's.
 * Everything else as written. A RUN, or a COPY from the context, is refused: neither can be
 * carried over faithfully (the base has no shell; the context here is the build stage's output).
 */
export function offlineDockerfile(dockerfile: Dockerfile, baseTag: string): OfflineDockerfile {
  const image = dockerfile.stages.at(-1);
  const build = dockerfile.stages.find((stage) => stage.name !== undefined && stage !== image);
  if (!image || !build) throw new Error('deploy/docker/Dockerfile: expected a named build stage and a final stage');
  const workdir = instructionsOf(build, 'WORKDIR').at(-1);
  if (!workdir) throw new Error(`deploy/docker/Dockerfile: the build stage "${build.name}" has no WORKDIR, so its paths cannot be mapped`);
  const baseArg = /^\$\{?(\w+)\}?$/.exec(image.from)?.[1];
  const node = nodeOf(image);
  const sources: string[] = [];
  const lines = [`FROM ${baseTag}`];
  for (const { keyword, args } of image.instructions) {
    if (keyword === 'RUN') throw new Error(`deploy/docker/Dockerfile's final stage runs "${args}": the offline image has no shell to run it in`);
    if (keyword === 'ARG' && baseArg && args === baseArg) {
      lines.push(`ARG ${baseArg}=${baseTag}`);
    } else if (keyword === 'COPY') {
      const words = args.split(/\s+/);
      if (!words.includes(`--from=${build.name}`)) throw new Error(`deploy/docker/Dockerfile copies "${args}" from the context: the offline build copies only from the build stage`);
      const options = words.filter((word) => word.startsWith('--') && word !== `--from=${build.name}`);
      const paths = words.filter((word) => !word.startsWith('--'));
      const destination = paths.pop() as string;
      const taken = paths.map((source) => {
        const relative = path.posix.relative(workdir, source);
        if (relative.startsWith('..') || path.posix.isAbsolute(relative)) throw new Error(`deploy/docker/Dockerfile copies ${source}, outside the build stage's ${workdir}`);
        sources.push(relative);
        return `files/${relative}`;
      });
      lines.push(['COPY', ...options, ...taken, destination].join(' '));
    } else if (keyword === 'ENTRYPOINT' || keyword === 'CMD' || keyword === 'HEALTHCHECK') {
      lines.push(`${keyword} ${args.replaceAll(JSON.stringify(node), JSON.stringify(BASE_NODE))}`);
    } else {
      lines.push(`${keyword} ${args}`);
    }
  }
  return { text: lines.join('\n') + '\n', sources };
}

/** The image's Node: the first word of its exec-form ENTRYPOINT. */
function nodeOf(image: Stage): string {
  const node = execForm(instructionsOf(image, 'ENTRYPOINT').at(-1) ?? '')?.[0];
  if (!node) throw new Error('deploy/docker/Dockerfile: the final stage needs an exec-form ENTRYPOINT that starts with its node');
  return node;
}

/**
 * What the Dockerfile's build stage leaves in its WORKDIR, each under `files/`: package.json as
 * write-runtime-package.ts rewrites it, node_modules as `npm prune --omit=dev` leaves it (the
 * runtime dependencies' closure), and dist/ as `npm run build:proxy` compiles it (in memory).
 */
export async function buildStageFiles(root: string): Promise<ContextFile[]> {
  const pkg = runtimePackage(root);
  return [
    { name: 'files/package.json', mode: 0o644, content: Buffer.from(JSON.stringify(pkg, null, 2) + '\n') },
    ...(await packageTreeFiles(root, Object.keys(pkg.dependencies), 'pinlab-proxy')),
    ...compiledFiles(root).map((file) => ({ ...file, name: `files/${file.name}` })),
  ];
}

/**
 * What `npm run build:proxy` writes in the image's build stage, by path relative to `root`
 * (`dist/proxy-core/…`), without writing it: tsconfig.build.json's options and its proxy-core
 * files, the only ones the build stage is given. A type error fails it, as it fails that stage.
 */
export function compiledFiles(root: string): Array<{ name: string; mode: number; content: Buffer }> {
  const { options } = buildConfig(root);
  const program = ts.createProgram({ rootNames: shippedProxyFiles(root), options });
  const files: Array<{ name: string; mode: number; content: Buffer }> = [];
  const emitted = program.emit(undefined, (fileName, text) => {
    files.push({ name: path.relative(root, fileName).split(path.sep).join('/'), mode: 0o644, content: Buffer.from(text) });
  });
  const errors = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const host = { getCanonicalFileName: (name: string) => name, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(`tsc -p tsconfig.build.json failed, as the image's build stage would:\n${ts.formatDiagnostics(errors, host)}`);
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
