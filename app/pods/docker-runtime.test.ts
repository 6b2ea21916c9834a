import { appendFile, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from '../../proxy-core/test/client.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { ensureDemoImage, type ImageProgress } from './image-build.ts';
import type { PodEvent } from './runtime.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAB = `test-docker-${process.pid}-${Date.now().toString(36)}`;
const LAB_FILTER = { label: [`pinlab.lab=${LAB}`] };

const unreachable = await DockerRuntime.connect({ labId: `${LAB}-probe` }).then(
  async (runtime) => {
    await runtime.close();
    return null;
  },
  (error: Error) => error.message,
);
if (unreachable) console.warn(`docker-runtime tests skipped: ${unreachable}`);

/** Polls until `check` returns something truthy. */
async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function whoami(url: string): Promise<string> {
  const { client } = await connectClient(url);
  try {
    return (await call<{ pod: string }>(client, 'whoami')).pod;
  } finally {
    await client.close();
  }
}

describe.skipIf(unreachable !== null)('DockerRuntime against the real engine', () => {
  const docker = new Docker();
  const events: PodEvent[] = [];
  let runtime: DockerRuntime;

  beforeAll(async () => {
    runtime = await DockerRuntime.connect({ labId: LAB });
    runtime.onEvent((event) => events.push(event));
  });

  afterAll(async () => {
    await runtime?.close();
  });

  it('builds the demo image when its content changes and reuses it otherwise', async () => {
    let started = Date.now();
    const tag = await ensureDemoImage(docker);
    console.log(`ensureDemoImage (first call in this run): ${Date.now() - started} ms`);
    const image = await docker.getImage(tag).inspect();
    expect(tag).toMatch(/^pinlab-demo:[0-9a-f]{12}$/);
    expect(image.Config.WorkingDir).toBe('/app');
    expect(image.Config.Cmd).toEqual(['node', 'app/demo-backend/main.ts']);

    const again: ImageProgress[] = [];
    started = Date.now();
    expect(await ensureDemoImage(docker, { onProgress: (event) => again.push(event) })).toBe(tag);
    console.log(`ensureDemoImage (reuse): ${Date.now() - started} ms`);
    expect(again.filter((event) => event.stage === 'build')).toEqual([]);
    expect(again.at(-1)).toEqual({ stage: 'ready', message: `reusing ${tag}` });
    expect((await docker.getImage(tag).inspect()).Id).toBe(image.Id);

    // A changed source file is new content: a new tag, really built, then reused.
    const root = await mkdtemp(path.join(tmpdir(), 'pinlab-image-'));
    let changedTag: string | null = null;
    try {
      await mkdir(path.join(root, 'app'));
      await cp(path.join(ROOT, 'app/demo-backend'), path.join(root, 'app/demo-backend'), { recursive: true });
      await appendFile(path.join(root, 'app/demo-backend/main.ts'), `// ${LAB}\n`);
      await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
      const built: ImageProgress[] = [];
      started = Date.now();
      changedTag = await ensureDemoImage(docker, { root, onProgress: (event) => built.push(event) });
      console.log(`ensureDemoImage (changed source, base reused): ${Date.now() - started} ms`);
      expect(changedTag).not.toBe(tag);
      expect(built.some((event) => event.stage === 'build' && /^Step \d+\/\d+ : COPY files\/ \/app\//.test(event.message))).toBe(true);
      expect(built.at(-1)).toEqual({ stage: 'ready', message: `built ${changedTag}` });
      const reused: ImageProgress[] = [];
      expect(await ensureDemoImage(docker, { root, onProgress: (event) => reused.push(event) })).toBe(changedTag);
      expect(reused.some((event) => event.stage === 'build')).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
      if (changedTag) await docker.getImage(changedTag).remove();
    }
  }, 180_000);

  it('starts two pods that answer whoami with their own names, on 127.0.0.1 only', async () => {
    const started = Date.now();
    const [one, two] = await Promise.all([runtime.start('pod-1', { kind: 'demo' }), runtime.start('pod-2', { kind: 'demo' })]);
    console.log(`two pods started (in parallel): ${Date.now() - started} ms`);
    for (const pod of [one, two]) {
      expect(pod.state).toBe('ready');
      expect(pod.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(pod.url).toBe(`http://${pod.address}/mcp`);
      expect(await whoami(pod.url)).toBe(pod.name);
      const container = await docker.getContainer(pod.id).inspect();
      expect(container.Config.Labels).toMatchObject({ 'pinlab.lab': LAB, 'pinlab.pod': pod.name, 'pinlab.owner-pid': String(process.pid) });
      expect(container.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: pod.address.split(':')[1] }] });
    }
    expect(one.address).not.toBe(two.address);
    expect(runtime.list().map((pod) => [pod.name, pod.state])).toEqual([['pod-1', 'ready'], ['pod-2', 'ready']]);
  });

  it('kill: the pod is reported dead, its container removed and its port refuses connections', async () => {
    const pod = runtime.list().find((p) => p.name === 'pod-2')!;
    await runtime.kill('pod-2');
    expect(events.filter((e) => e.pod === 'pod-2').map((e) => [e.state, e.reason])).toEqual([['ready', 'started'], ['dead', 'killed']]);
    expect(runtime.list().find((p) => p.name === 'pod-2')?.state).toBe('dead');
    expect(await connectError(Number(pod.address.split(':')[1]))).toBe('ECONNREFUSED');
    await expect(docker.getContainer(pod.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // Its output outlives the container.
    expect(await runtime.logs('pod-2')).toMatch(/"event":"listening","pod":"pod-2"/);
  });

  it('a container killed outside the lab is reported through the Docker event stream', async () => {
    const pod = await runtime.start('pod-3', { kind: 'demo' });
    await docker.getContainer(pod.id).kill();
    const dead = await until(() => events.find((e) => e.pod === 'pod-3' && e.state === 'dead'), 'pod-3 dead');
    expect(dead.reason).toMatch(/killed outside the lab/);
    expect(runtime.list().find((p) => p.name === 'pod-3')?.state).toBe('dead');
    await runtime.kill('pod-3');
    await expect(docker.getContainer(pod.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('restart in place: same address, the old session is gone, a new one works', async () => {
    const before = runtime.list().find((p) => p.name === 'pod-1')!;
    const session = await rawSession(before.url);
    expect((await rawCall(before.url, session, 'whoami')).status).toBe(200);
    const started = Date.now();
    const after = await runtime.restart('pod-1');
    console.log(`restart in place: ${Date.now() - started} ms`);
    expect(after.address).toBe(before.address);
    expect(after.url).toBe(before.url);
    expect(after.id).not.toBe(before.id);
    expect(after.state).toBe('ready');
    expect((await rawCall(after.url, session, 'whoami')).status).toBe(404);
    expect(await whoami(after.url)).toBe('pod-1');
    expect(events.filter((e) => e.pod === 'pod-1').slice(-2).map((e) => [e.state, e.reason])).toEqual([['dead', 'restarted in place'], ['ready', 'started']]);
  });

  it('pause stops answers, unpause brings them back', async () => {
    const pod = runtime.list().find((p) => p.name === 'pod-1')!;
    await runtime.pause('pod-1');
    expect(runtime.list().find((p) => p.name === 'pod-1')?.state).toBe('paused');
    expect(events.at(-1)).toMatchObject({ pod: 'pod-1', state: 'paused' });
    expect((await docker.getContainer(pod.id).inspect()).State.Paused).toBe(true);
    await expect(request(`http://${pod.address}/healthz`, { signal: AbortSignal.timeout(500) })).rejects.toThrow();
    await runtime.unpause('pod-1');
    expect(runtime.list().find((p) => p.name === 'pod-1')?.state).toBe('ready');
    expect(events.at(-1)).toMatchObject({ pod: 'pod-1', state: 'ready' });
    expect(await whoami(pod.url)).toBe('pod-1');
  });

  it('logs hold the pod\'s listening line', async () => {
    const logs = await runtime.logs('pod-1');
    expect(logs).toMatch(/^\{"event":"listening","pod":"pod-1","host":"0.0.0.0","port":8080,"path":"\/mcp"\}$/m);
  });

  it('removeOrphans removes containers of a dead owner and leaves live labs alone', async () => {
    const deadPid = 999_999;
    expect(() => process.kill(deadPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    const image = await ensureDemoImage(docker);
    const create = (lab: string, ownerPid: number) =>
      docker.createContainer({ Image: image, Labels: { 'pinlab.lab': lab, 'pinlab.pod': 'pod-1', 'pinlab.owner-pid': String(ownerPid) } });
    const orphan = await create(`${LAB}-crashed`, deadPid);
    const otherLab = await create(`${LAB}-other-live`, process.ppid);
    try {
      expect(await runtime.removeOrphans()).toBeGreaterThanOrEqual(1);
      await expect(orphan.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await otherLab.inspect()).Config.Labels['pinlab.lab']).toBe(`${LAB}-other-live`);
      const ours = runtime.list().find((p) => p.name === 'pod-1')!;
      expect((await docker.getContainer(ours.id).inspect()).State.Running).toBe(true);
      expect(await whoami(ours.url)).toBe('pod-1');
    } finally {
      await otherLab.remove({ force: true });
      await orphan.remove({ force: true }).catch(() => {});
    }
  });

  it('close() removes every container of the lab', async () => {
    expect((await docker.listContainers({ all: true, filters: LAB_FILTER })).length).toBe(1);
    await runtime.close();
    expect(await docker.listContainers({ all: true, filters: LAB_FILTER })).toEqual([]);
    expect(runtime.list().every((p) => p.state === 'dead')).toBe(true);
  });
});
