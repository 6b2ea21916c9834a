import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyClosure, type ContextFile } from '../../app/pods/image-content.ts';
import { freePort } from '../../app/net/free-port.ts';
import { messageOf } from '../../proxy-core/errors.ts';
import { call, connectClient } from '../../proxy-core/test/client.ts';
import { until } from '../../proxy-core/test/lab.ts';
import { startPods, type TestPod } from '../../proxy-core/test/pods.ts';
import { startRedis, type TestRedis } from '../../proxy-core/test/redis.ts';
import { execForm, instructionsOf, keyValues, parseDockerfile, type Stage } from './dockerfile.ts';
import { BASE_NODE, buildStageFiles, compiledFiles, ensureProxyImage, offlineDockerfile, proxyImageContent } from './offline-image.ts';
import { runtimePackage, shippedProxyFiles } from './runtime-package.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE_TEXT = readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
const dockerfile = parseDockerfile(DOCKERFILE_TEXT);
const image = dockerfile.stages.at(-1) as Stage;
const LAB = `test-proxy-image-${process.pid}-${Date.now().toString(36)}`;

const unreachable = await new Docker({ timeout: 2000 }).ping().then(() => null, (error: unknown) => messageOf(error));
if (unreachable) console.warn(`deploy/docker/offline-image.test.ts: Docker is not reachable (${unreachable}), so the pinlab-proxy image was NOT built or run.`);

type WhoAmI = { pod: string; session: string };

/** The Dockerfile's ENTRYPOINT after its node: what the offline image runs with the base's node. */
const entrypointArgs = (execForm(instructionsOf(image, 'ENTRYPOINT')[0] ?? '') ?? []).slice(1);

describe('the offline image\'s Dockerfile (offline-image.ts)', () => {
  it('is the Dockerfile\'s final stage on the given base: the same instructions, the build stage\'s files from files/, the base\'s node', () => {
    const offline = offlineDockerfile(dockerfile, 'pinlab-node-base:0123456789ab');
    const [stage, ...others] = parseDockerfile(offline.text).stages;
    expect(others).toEqual([]);
    expect(stage?.from).toBe('pinlab-node-base:0123456789ab');
    expect(stage?.instructions.map((i) => i.keyword)).toEqual(image.instructions.map((i) => i.keyword));
    for (const keyword of ['ENV', 'LABEL', 'USER', 'EXPOSE', 'WORKDIR']) expect(instructionsOf(stage!, keyword), keyword).toEqual(instructionsOf(image, keyword));
    // The OCI base label names what the image is really built on.
    expect(instructionsOf(stage!, 'ARG')).toContain('RUNTIME_IMAGE=pinlab-node-base:0123456789ab');
    expect(instructionsOf(stage!, 'COPY')).toEqual(['files/package.json ./', 'files/node_modules ./node_modules/', 'files/dist/proxy-core ./dist/proxy-core/']);
    expect(offline.sources).toEqual(['package.json', 'node_modules', 'dist/proxy-core']);
    expect(execForm(instructionsOf(stage!, 'ENTRYPOINT')[0] ?? '')).toEqual([BASE_NODE, ...entrypointArgs]);
    expect(instructionsOf(stage!, 'HEALTHCHECK')).toEqual(instructionsOf(image, 'HEALTHCHECK').map((args) => args.replace('"/nodejs/bin/node"', `"${BASE_NODE}"`)));
    expect(offline.text).not.toContain('/nodejs/');
  });

  it('refuses what it cannot carry over, saying what: a RUN, a COPY from the context, a path outside the build stage', () => {
    const withLine = (line: string) => parseDockerfile(DOCKERFILE_TEXT.replace(/^USER /m, `${line}\nUSER `));
    expect(() => offlineDockerfile(withLine('RUN mkdir /data'), 'base:1')).toThrow(/final stage runs "mkdir \/data": the offline image has no shell/);
    expect(() => offlineDockerfile(withLine('COPY README.md ./'), 'base:1')).toThrow(/copies "README\.md \.\/" from the context/);
    expect(() => offlineDockerfile(withLine('COPY --from=build /etc/passwd /etc/'), 'base:1')).toThrow(/copies \/etc\/passwd, outside the build stage's \/src/);
  });
});

describe('the offline image\'s context (offline-image.ts)', () => {
  let buildStage: ContextFile[];
  beforeAll(async () => {
    buildStage = await buildStageFiles(ROOT);
  }, 120_000);
  const names = (files: ContextFile[], prefix: string) => files.filter((f) => f.name.startsWith(prefix)).map((f) => f.name.slice(prefix.length));

  it('holds the runtime package.json, its dependencies\' closure and the compiled proxy-core, and nothing else', async () => {
    const content = proxyImageContent(ROOT, { tag: 'pinlab-node-base:0123456789ab', id: 'sha256:0' }, buildStage);
    expect(content.repo).toBe('pinlab-proxy');
    const pkg = content.files.find((f) => f.name === 'files/package.json');
    expect(pkg && 'content' in pkg ? JSON.parse(pkg.content.toString()) : null).toEqual(runtimePackage(ROOT));

    const packages = new Set(names(content.files, 'files/node_modules/').map((name) => name.split('/').slice(0, name.startsWith('@') ? 2 : 1).join('/')));
    const closure = await dependencyClosure(ROOT, Object.keys(runtimePackage(ROOT).dependencies), 'pinlab-proxy');
    expect([...packages].sort()).toEqual(closure.filter((dir) => !dir.includes('/node_modules/', 1)).map((dir) => dir.slice('node_modules/'.length)));

    // Every shipped source compiled, with its source map; nothing of the lab, no tests.
    const dist = names(content.files, 'files/dist/');
    const expected = shippedProxyFiles(ROOT).map((file) => path.relative(ROOT, file).replace(/\.ts$/, '.js'));
    expect(dist.filter((name) => name.endsWith('.js')).sort()).toEqual(expected.sort());
    expect(dist.filter((name) => name.endsWith('.js.map'))).toHaveLength(expected.length);
    expect(content.files.filter((f) => !/^files\/(package\.json$|node_modules\/|dist\/proxy-core\/)/.test(f.name))).toEqual([]);
  });
});

describe('compiledFiles', () => {
  let root: string | undefined;
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('fails on a type error as npm run build:proxy does, naming the file and line', () => {
    root = mkdtempSync(path.join(tmpdir(), 'pinlab-offline-image-'));
    writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', strict: true, types: [], skipLibCheck: true, outDir: 'dist', rootDir: '.' }, include: ['proxy-core'],
    }));
    mkdirSync(path.join(root, 'proxy-core'));
    writeFileSync(path.join(root, 'proxy-core/ok.ts'), 'export const port: number = 8080;\n');
    expect(compiledFiles(root).map((f) => f.name)).toEqual(['dist/proxy-core/ok.js']);
    writeFileSync(path.join(root, 'proxy-core/bad.ts'), 'export const port: number = "8080";\n');
    expect(() => compiledFiles(root!)).toThrow(/tsc -p tsconfig\.build\.json failed[\s\S]*proxy-core\/bad\.ts\(1,14\): error TS2322/);
  }, 60_000);
});

describe.skipIf(unreachable !== null)('the pinlab-proxy image, run on the host network through the proxy\'s cases', () => {
  const docker = new Docker();
  let tag: string;
  let redis: TestRedis;
  let pods: TestPod[];
  let container: Docker.Container | undefined;
  let origin: string;
  const logs = async () => (container ? (await container.logs({ stdout: true, stderr: true, follow: false })).toString('utf8') : '');

  beforeAll(async () => {
    // One at a time, each kept as it starts: a build that fails (a type error) leaves nothing running.
    tag = await ensureProxyImage(docker);
    redis = await startRedis();
    pods = await startPods(2);
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    container = await docker.createContainer({
      Image: tag,
      // As `docker run --network host --read-only --tmpfs /tmp --user 65532:65532`: loopback is the host's, so
      // the proxy listens on 127.0.0.1 only (never beyond), and reaches the pods and Redis there.
      Cmd: [...pods.flatMap((pod) => ['--backend', pod.url]), '--store', 'redis', '--redis-url', redis.url, '--store-required', 'on', '--replica-id', 'image-test', '--log-format', 'json'],
      Env: ['PINLAB_HOST=127.0.0.1', `PINLAB_PORT=${port}`],
      User: '65532:65532',
      Labels: { 'pinlab.lab': LAB, 'pinlab.owner-pid': String(process.pid) },
      HostConfig: { NetworkMode: 'host', ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' } },
    });
    await container.start();
    await until('the proxy in the container to answer /healthz', async () => {
      const state = (await container!.inspect()).State;
      if (!state.Running) throw new Error(`the container exited (${state.ExitCode}):\n${await logs()}`);
      return request(`${origin}/healthz`).then((r) => r.body.dump().then(() => r.statusCode === 200), () => false);
    }, 20_000);
  }, 240_000);

  afterAll(async () => {
    await container?.remove({ force: true });
    await Promise.all((pods ?? []).map((pod) => pod.kill()));
    await redis?.close();
  });

  /** The session record the proxy keeps in Redis. */
  const record = async (id: string) => JSON.parse((await redis.client.get(`pinlab:session:${id}`)) ?? 'null') as { target: string; generation: number } | null;

  it('runs the Dockerfile\'s entrypoint on the host\'s Node, as uid 65532, with a read-only root filesystem', async () => {
    const config = (await docker.getImage(tag).inspect()).Config;
    expect(config.Entrypoint).toEqual([BASE_NODE, ...entrypointArgs]);
    expect(config.Cmd).toBeNull();
    expect(config.User).toBe(instructionsOf(image, 'USER')[0]);
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(instructionsOf(image, 'EXPOSE').map((port) => `${port}/tcp`));
    const labels = new Map(instructionsOf(image, 'LABEL').flatMap((args) => [...keyValues(args)]));
    expect(Object.keys(config.Labels ?? {}).sort()).toEqual([...labels.keys()].sort());
    expect(config.Labels?.['org.opencontainers.image.base.name']).toMatch(/^(pinlab-node-base:[0-9a-f]{12}|node:24-slim)$/);

    const inspected = await container!.inspect();
    expect(inspected.HostConfig).toMatchObject({ NetworkMode: 'host', ReadonlyRootfs: true });
    // Every process in it (a health probe's node may be one) runs as 65532; one is the proxy.
    const top = (await container!.top({ ps_args: '-o pid,uid,args' })) as { Titles: string[]; Processes: string[][] };
    expect(top.Titles).toEqual(['PID', 'UID', 'COMMAND']);
    expect(new Set(top.Processes.map(([, uid]) => uid))).toEqual(new Set(['65532']));
    expect(top.Processes.filter(([, , args]) => args?.startsWith(`${BASE_NODE} ${entrypointArgs.join(' ')} `))).toHaveLength(1);
  });

  it('an SDK client\'s session is pinned: every follow-up reaches the pod that served initialize', async () => {
    const { client, transport } = await connectClient(`${origin}/mcp`);
    try {
      const first = await call<WhoAmI>(client, 'whoami');
      for (let i = 0; i < 4; i++) expect((await call<WhoAmI>(client, 'whoami')).pod).toBe(first.pod);
      const pinned = pods.find((pod) => pod.name === first.pod);
      expect((await record(transport.sessionId!))?.target).toBe(pinned?.url);
    } finally {
      await client.close();
    }
  });

  it('the pinned pod killed: the next call succeeds on the other pod, re-initialized under the same session id', async () => {
    const { client, transport } = await connectClient(`${origin}/mcp`);
    try {
      const id = transport.sessionId!;
      const before = await call<WhoAmI>(client, 'whoami');
      const pinned = pods.find((pod) => pod.name === before.pod)!;
      await pinned.kill();

      const after = await call<WhoAmI>(client, 'whoami');
      const other = pods.find((pod) => pod !== pinned)!;
      expect(after.pod).toBe(other.name);
      expect(after.session).not.toBe(before.session);
      expect(transport.sessionId).toBe(id);
      expect(await record(id)).toMatchObject({ target: other.url, generation: 1 });
      expect((await call<WhoAmI>(client, 'whoami')).pod).toBe(other.name);
    } finally {
      await client.close();
    }
  });

  it('/healthz answers and /metrics serves the pinlab_ metrics, the recovery counted', async () => {
    const health = await request(`${origin}/healthz`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
    const metrics = await request(`${origin}/metrics`);
    const text = await metrics.body.text();
    expect(metrics.statusCode).toBe(200);
    expect(text).toMatch(/^pinlab_proxy_info\{replica="image-test",store="redis"\} 1$/m);
    expect(text).toMatch(/^pinlab_proxy_sessions_created_total 2$/m);
    expect(text).toMatch(/^pinlab_proxy_recoveries_total\{[^}]*outcome="done"[^}]*\} 1$/m);
  });

  it('Docker\'s HEALTHCHECK, the image\'s own node asking /healthz, reports the container healthy', async () => {
    const { Healthcheck } = (await docker.getImage(tag).inspect()).Config;
    expect(Healthcheck?.Test?.slice(0, 2)).toEqual(['CMD', BASE_NODE]);
    const ms = (nanoseconds = 0) => nanoseconds / 1e6;
    const started = Date.parse((await container!.inspect()).State.StartedAt);
    // Docker has decided by then, either way: the start period, then `retries` probes that each fail or time out.
    const decided = started + ms(Healthcheck?.StartPeriod) + (Healthcheck?.Retries ?? 3) * (ms(Healthcheck?.Interval) + ms(Healthcheck?.Timeout)) + 5_000;
    let health: { Status: string; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> } | undefined;
    await until('Docker to decide the container\'s health', async () => {
      health = (await container!.inspect()).State.Health as typeof health;
      return health?.Status !== 'starting';
    }, Math.max(decided - Date.now(), 0));
    expect(health?.Status, JSON.stringify(health?.Log)).toBe('healthy');
    expect(health?.FailingStreak).toBe(0);
    const passed = health?.Log.find((probe) => probe.ExitCode === 0);
    expect(passed, JSON.stringify(health?.Log)).toBeDefined();
    // A figure, not a verdict: on a loaded machine a probe's node can take longer than its timeout to start.
    console.log(`HEALTHCHECK: healthy after ${Date.parse(passed!.End) - started} ms (interval ${ms(Healthcheck?.Interval)} ms, timeout ${ms(Healthcheck?.Timeout)} ms)`);
  }, 60_000);
});
