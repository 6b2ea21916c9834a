import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from '../../proxy-core/test/client.ts';
import { PID_ROOT, ProcessRuntime } from './process-runtime.ts';
import type { PodEvent } from './runtime.ts';

const runtimes: ProcessRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

function runtime(labId = `test-${process.pid}-${runtimes.length}`) {
  const r = new ProcessRuntime({ labId });
  runtimes.push(r);
  const events: PodEvent[] = [];
  r.onEvent((e) => events.push(e));
  return { runtime: r, events, labId };
}

describe('process pod runtime', () => {
  it('starts demo pods that answer MCP, kills one (listed dead, port closed), restarts one in place', async () => {
    const { runtime: r, events } = runtime();
    const [a, b] = await Promise.all([r.start('pod-1', { kind: 'demo' }), r.start('pod-2', { kind: 'demo', sessionLost: '400' })]);
    expect(a!.state).toBe('ready');
    const { client } = await connectClient(b!.url);
    expect(await call(client, 'whoami')).toMatchObject({ pod: 'pod-2' });
    await client.close();

    await r.kill('pod-1');
    expect(r.list().find((p) => p.name === 'pod-1')!.state).toBe('dead');
    expect(events).toContainEqual(expect.objectContaining({ pod: 'pod-1', state: 'dead', reason: 'killed' }));
    await expect(request(a!.url, { method: 'POST' })).rejects.toThrow(/ECONNREFUSED/);
    expect(await r.logs('pod-1')).toMatch(/"event":"listening"/);

    const session = await rawSession(b!.url);
    const restarted = await r.restart('pod-2');
    expect(restarted.address).toBe(b!.address);
    const lost = await rawCall(b!.url, session, 'whoami');
    expect(lost.status, 'memory lost: the pod answers its 400 style').toBe(400);
  });

  it('pauses (requests wait) and unpauses (they are answered)', async () => {
    const { runtime: r, events } = runtime();
    const pod = await r.start('pod-1', { kind: 'demo' });
    await r.pause('pod-1');
    expect(events.at(-1)).toMatchObject({ state: 'paused' });
    const waiting = request(pod.url.replace('/mcp', '/healthz')).then((res) => res.statusCode);
    const early = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300))]);
    expect(early).toBe('still waiting');
    await r.unpause('pod-1');
    expect(await waiting).toBe(200);
  });

  it('runs a custom command with {port}, and refuses images', async () => {
    const { runtime: r } = runtime();
    const pod = await r.start('pod-1', {
      kind: 'command', command: process.execPath, args: ['app/demo-backend/main.ts', '--port', '{port}', '--pod', 'custom'], portEnv: 'PORT', path: '/mcp',
    });
    const { client } = await connectClient(pod.url);
    expect(await call(client, 'whoami')).toMatchObject({ pod: 'custom' });
    await client.close();
    await expect(r.start('pod-2', { kind: 'image', image: 'x', port: 1, path: '/mcp' })).rejects.toThrow(/needs the docker runtime/);
  });

  it('removes the pods of a lab whose process died, and nothing of a live lab', async () => {
    const { runtime: live } = runtime();
    const kept = await live.start('pod-1', { kind: 'demo' });
    // A pod left behind by a crashed lab: its owner pid does not exist.
    const orphan = spawn(process.execPath, ['app/demo-backend/main.ts', '--port', '0', '--pod', 'orphan'], { stdio: 'ignore' });
    const dir = join(PID_ROOT, 'crashed-lab');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pod-1.pid'), JSON.stringify({ pid: orphan.pid, ownerPid: 999_999, pod: 'pod-1', command: 'app/demo-backend/main.ts' }));
    const exited = new Promise((resolve) => orphan.once('exit', resolve));

    expect(await new ProcessRuntime({ labId: 'cleaner' }).removeOrphans()).toBe(1);
    await exited;
    expect(existsSync(dir)).toBe(false);
    expect((await request(kept.url.replace('/mcp', '/healthz'))).statusCode, 'the live lab\'s pod is untouched').toBe(200);
  });
});
