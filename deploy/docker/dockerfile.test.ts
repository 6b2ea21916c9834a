import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplica } from '../../proxy-core/test/replicas.ts';
import { parseManifests, type Workload } from '../kubernetes/rendered.ts';
import { execForm, instructionsOf, keyValues, parseDockerfile, type Stage } from './dockerfile.ts';
import { shippedProxyFiles } from './runtime-package.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = path.join(ROOT, 'deploy/docker');
const dockerfile = parseDockerfile(readFileSync(path.join(HERE, 'Dockerfile'), 'utf8'));
const image = dockerfile.stages.at(-1) as Stage;
const rootPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };

/** The proxy's pod as the base manifests declare it (no kustomize needed to read one file). */
function proxyPod() {
  const file = path.join(ROOT, 'deploy/kubernetes/base/proxy-deployment.yaml');
  const deployment = parseManifests(readFileSync(file, 'utf8'), file).one<Workload>('Deployment', 'pinlab-proxy');
  const pod = deployment.spec.template.spec;
  return { pod, container: pod.containers[0] };
}

function env(): Map<string, string> {
  const all = new Map<string, string>();
  for (const args of instructionsOf(image, 'ENV')) for (const [key, value] of keyValues(args)) all.set(key, value);
  return all;
}

/** HEALTHCHECK's command, in exec form (null for the shell form). */
function healthcheck(): string[] | null {
  const [args = ''] = instructionsOf(image, 'HEALTHCHECK');
  return execForm(args.slice(args.indexOf('CMD ') + 4).trim());
}

describe('deploy/docker/Dockerfile', () => {
  it('builds on node:24-slim and ships on distroless Node 24, non-root variant', () => {
    expect(dockerfile.globalArgs.get('BUILD_IMAGE')).toBe('node:24-slim');
    expect(dockerfile.globalArgs.get('RUNTIME_IMAGE')).toBe('gcr.io/distroless/nodejs24-debian12:nonroot');
    expect(dockerfile.stages.map((s) => s.from)).toEqual(['${BUILD_IMAGE}', '${RUNTIME_IMAGE}']);
  });

  it('needs no shell in the image: no RUN, and ENTRYPOINT and HEALTHCHECK in exec form with the image\'s node', () => {
    expect(instructionsOf(image, 'RUN')).toEqual([]);
    expect(instructionsOf(image, 'CMD')).toEqual([]);
    const entrypoint = execForm(instructionsOf(image, 'ENTRYPOINT')[0] ?? '');
    expect(entrypoint?.[0]).toBe('/nodejs/bin/node');
    expect(healthcheck()?.[0]).toBe(entrypoint?.[0]);
  });

  it('runs the CLI that npm run build:proxy compiles', () => {
    const entrypoint = execForm(instructionsOf(image, 'ENTRYPOINT')[0] ?? '') ?? [];
    const script = entrypoint.at(-1) ?? '';
    // tsconfig.build.json: rootDir ".", outDir "dist" — dist/x.js is compiled from x.ts.
    const source = path.join(ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    expect(script).toMatch(/^dist\/proxy-core\/.+\.js$/);
    expect(shippedProxyFiles(ROOT)).toContain(source);
    expect(instructionsOf(image, 'COPY')).toContain('--from=build /src/dist/proxy-core ./dist/proxy-core/');
    expect(instructionsOf(image, 'WORKDIR')).toEqual(['/app']);
  });

  it('runs as the non-root user and group the proxy\'s pods run as', () => {
    const [user = ''] = instructionsOf(image, 'USER');
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    const { pod } = proxyPod();
    expect(uid).toBe(pod.securityContext?.runAsUser);
    expect(gid).toBe(pod.securityContext?.runAsGroup);
  });

  it('listens on every address, on the port it exposes and the proxy\'s container declares', () => {
    const variables = env();
    expect(variables.get('PINLAB_HOST')).toBe('0.0.0.0');
    expect(instructionsOf(image, 'EXPOSE')).toEqual([variables.get('PINLAB_PORT')]);
    const { container } = proxyPod();
    expect(container?.ports?.find((p) => p.name === 'http')?.containerPort).toBe(Number(variables.get('PINLAB_PORT')));
  });

  it('carries the OCI labels, with the package\'s version and licence', () => {
    const labels = new Map<string, string>();
    for (const args of instructionsOf(image, 'LABEL')) for (const [key, value] of keyValues(args)) labels.set(key, value);
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses', 'base.name']) {
      expect(labels.has(`org.opencontainers.image.${key}`), key).toBe(true);
    }
    expect(labels.get('org.opencontainers.image.licenses')).toBe(rootPackage.license);
    const versionArg = instructionsOf(image, 'ARG').map((a) => keyValues(a)).find((pairs) => pairs.has('VERSION'));
    expect(versionArg?.get('VERSION')).toBe(rootPackage.version);
  });

  it('copies into the build stage only files Dockerfile.dockerignore lets into the context', () => {
    const ignore = readFileSync(path.join(HERE, 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignore).toContain('*');
    const allowed = new Set(ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1)));
    const [build] = dockerfile.stages;
    const sources = instructionsOf(build as Stage, 'COPY').flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    expect(sources.filter((source) => !allowed.has(source) || !existsSync(path.join(ROOT, source)))).toEqual([]);
  });
});

describe('the image\'s HEALTHCHECK command, run by this machine\'s node', () => {
  let replica: Awaited<ReturnType<typeof startReplica>> | undefined;
  beforeAll(async () => {
    replica = await startReplica({ backends: ['http://127.0.0.1:9/mcp'] });
  });
  afterAll(async () => {
    await replica?.close();
  });

  // Asynchronously: the replica answers from this very process.
  const run = (port: number) => new Promise<number | null>((resolve) => {
    const [, ...args] = healthcheck() ?? [];
    const child = execFile(process.execPath, args, { env: { PATH: process.env.PATH, PINLAB_PORT: String(port) }, timeout: 10_000 });
    child.once('exit', (code) => resolve(code));
  });

  it('exits 0 when the proxy on PINLAB_PORT answers /healthz', async () => {
    expect(await run(replica!.port)).toBe(0);
  });

  it('exits 1 when nothing answers there', async () => {
    const { port } = replica!;
    await replica!.close();
    replica = undefined;
    expect(await run(port)).toBe(1);
  });
});
