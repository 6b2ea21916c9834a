import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../proxy-core/test/client.ts';
import { ROOT } from '../paths.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { ProcessRuntime } from './process-runtime.ts';
import type { BackendSpec } from './runtime.ts';

// The user's own MCP server as pods: server-everything (the reference server, written by
// others) run as a command, on both runtimes, and servers that never get ready.
const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
/** Prints 30 numbered lines, then idles without ever listening. */
const NEVER_READY = "for (let i = 1; i <= 30; i++) console.log('line ' + i); setInterval(() => {}, 1000)";
/** Prints 30 numbered lines, then exits with code 4. */
const CRASHES = "for (let i = 1; i <= 30; i++) console.log('line ' + i); process.exit(4)";

function command(args: string[], extra: Partial<Extract<BackendSpec, { kind: 'command' }>> = {}): BackendSpec {
  return { kind: 'command', command: process.execPath, args, portEnv: 'PORT', path: '/mcp', ...extra };
}

/** The last 20 of the 30 lines, and none before them. */
function expectLastTwentyLines(message: string): void {
  expect(message).toMatch(/its last 20 line\(s\) of output:\nline 11\n(line \d+\n){18}line 30/);
  expect(message).not.toMatch(/^line 10$/m);
}

/** Connects an SDK client, and asks for the server's name and tools. */
async function probe(url: string): Promise<{ name: string | undefined; tools: string[] }> {
  const { client } = await connectClient(url);
  try {
    await client.ping();
    const { tools } = await client.listTools();
    return { name: client.getServerVersion()?.name, tools: tools.map((t) => t.name) };
  } finally {
    await client.close();
  }
}

describe('a user\'s command as process pods', () => {
  const runtimes: ProcessRuntime[] = [];
  const runtime = () => {
    const r = new ProcessRuntime({ labId: `test-user-${process.pid}-${runtimes.length}`, readyTimeoutMs: 3000 });
    runtimes.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
  });

  it('server-everything gets its own port in $PORT, in the given cwd, and answers MCP', async () => {
    const r = runtime();
    const [a, b] = await Promise.all([
      r.start('pod-1', command([EVERYTHING, 'streamableHttp'], { cwd: ROOT })),
      r.start('pod-2', command([EVERYTHING, 'streamableHttp'], { cwd: ROOT })),
    ]);
    expect(a!.address).not.toBe(b!.address);
    for (const pod of [a!, b!]) {
      expect(pod.url).toBe(`http://${pod.address}/mcp`);
      const { name, tools } = await probe(pod.url);
      expect(name).toMatch(/everything/i);
      expect(tools).toContain('echo');
    }
    expect(await r.logs('pod-1')).toContain(`listening on port ${a!.address.split(':')[1]}`);
  });

  it('gives the port in the variable portEnv names, and where an argument holds {port}', async () => {
    const r = runtime();
    // PORT is set from MY_PORT, so only a server told its port through MY_PORT answers.
    const viaEnv = await r.start('pod-1', command(
      ['--input-type=module', '-e', `process.env.PORT = process.env.MY_PORT; process.argv[2] = 'streamableHttp'; await import(${JSON.stringify(path.join(ROOT, EVERYTHING))})`],
      { portEnv: 'MY_PORT' },
    ));
    expect((await probe(viaEnv.url)).tools).toContain('echo');
    const viaArg = await r.start('pod-2', command(['app/demo-backend/main.ts', '--port', '{port}', '--pod', 'from-arg'], { portEnv: 'UNUSED_PORT', cwd: ROOT }));
    expect((await probe(viaArg.url)).name).toBeTruthy();
    expect(await r.logs('pod-2')).toContain(`"pod":"from-arg"`);
  });

  it('a command that never listens fails with its last 20 lines of output, not a bare timeout', async () => {
    const r = runtime();
    const error = await r.start('pod-1', command(['-e', NEVER_READY])).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^pod pod-1 did not start: no MCP answer at http:\/\/127\.0\.0\.1:\d+\/mcp within 3 s/);
    expectLastTwentyLines(error!.message);
    expect(r.list(), 'a pod that did not start is not listed').toEqual([]);
  });

  it('a command that exits says how, with its output; a program that is not there says so', async () => {
    const r = runtime();
    const crashed = await r.start('pod-1', command(['-e', CRASHES])).then(() => null, (e: Error) => e);
    expect(crashed?.message).toMatch(/^pod pod-1 did not start: exited with code 4 before it answered MCP/);
    expectLastTwentyLines(crashed!.message);
    await expect(r.start('pod-2', { kind: 'command', command: 'pinlab-absent-program', args: [], portEnv: 'PORT', path: '/mcp' }))
      .rejects.toThrow(/cannot run "pinlab-absent-program": not found/);
    await expect(r.start('pod-3', command([EVERYTHING], { cwd: '/nonexistent/pinlab' }))).rejects.toThrow(/working directory \/nonexistent\/pinlab does not exist/);
  });
});

const LAB = `test-user-docker-${process.pid}-${Date.now().toString(36)}`;
const unreachable = await DockerRuntime.connect({ labId: `${LAB}-probe` }).then(
  async (r) => {
    await r.close();
    return null;
  },
  (error: Error) => error.message,
);
if (unreachable) console.warn(`user-server Docker tests skipped: ${unreachable}`);

describe.skipIf(unreachable !== null)('a user\'s server on Docker', () => {
  const docker = new Docker();
  let runtime: DockerRuntime;
  let elsewhere: string;

  beforeAll(async () => {
    runtime = await DockerRuntime.connect({ labId: LAB, readyTimeoutMs: 4000 });
    elsewhere = await mkdtemp(path.join(tmpdir(), 'pinlab-cwd-'));
  });

  afterAll(async () => {
    await runtime?.close();
    expect(await docker.listContainers({ all: true, filters: { label: [`pinlab.lab=${LAB}`] } })).toEqual([]);
    if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
  });

  it('a command runs in the lab\'s Node image, cwd mounted read-only at the same path, port published on 127.0.0.1', async () => {
    // The host's Node binary path means the image's node; the relative path resolves in the mounted cwd.
    const pod = await runtime.start('pod-1', command([EVERYTHING, 'streamableHttp'], { cwd: ROOT }));
    expect((await probe(pod.url)).tools).toContain('echo');
    const container = await docker.getContainer(pod.id).inspect();
    expect(container.Config.WorkingDir).toBe(ROOT);
    expect(container.Config.Cmd).toEqual(['node', EVERYTHING, 'streamableHttp']);
    expect(container.Config.Env).toContain('PORT=8080');
    expect(container.HostConfig.Binds).toEqual([`${ROOT}:${ROOT}:ro`]);
    expect(container.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: pod.address.split(':')[1] }] });
    await runtime.kill('pod-1');
  }, 120_000);

  it('a program that is not in that image says so, and what to do', async () => {
    const error = await runtime.start('pod-2', { kind: 'command', command: 'pinlab-absent-program', args: ['{port}'], portEnv: 'PORT', path: '/mcp', cwd: elsewhere })
      .then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^pod pod-2: the program "pinlab-absent-program" is not in the image \S+/);
    expect(error?.message).toMatch(/use --runtime process, or run your server from an image/);
    expect(runtime.list().some((p) => p.name === 'pod-2')).toBe(false);
  });

  it('a container that exits carries its exit code and last 20 lines of logs', async () => {
    const error = await runtime.start('pod-3', command(['-e', CRASHES], { cwd: elsewhere })).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^pod pod-3 did not start: its container exited with code 4 before it answered MCP/);
    expectLastTwentyLines(error!.message);
  });

  it('a container that never listens carries its last 20 lines of logs', async () => {
    const error = await runtime.start('pod-4', command(['-e', NEVER_READY], { cwd: elsewhere })).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^pod pod-4 did not start: no MCP answer at .* within 4 s/);
    expectLastTwentyLines(error!.message);
  });

  it('an image that is not here says so, and how to get it', async () => {
    const image = `pinlab-test-absent:${LAB}`;
    const error = await runtime.start('pod-5', { kind: 'image', image, port: 3001, path: '/mcp' }).then(() => null, (e: Error) => e);
    expect(error?.message).toContain(`the image ${image} is not present locally`);
    expect(error?.message).toContain(`docker build -t ${image} .`);
    expect(error?.message).toContain(`docker pull ${image}`);
    if (process.env.PINLAB_OFFLINE === '1') expect(error?.message).toContain('the lab pulls nothing when offline');
  });
});
