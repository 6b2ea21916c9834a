import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PID_ROOT } from '../pods/process-runtime.ts';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../proxy-core/test/processes.ts';

function pinlab(args: string[]) {
  const result = spawnSync(process.execPath, ['app/cli/bin.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pinlab command line', () => {
  it('is linked for npx after npm install, and --help lists the commands', () => {
    const npx = spawnSync('npx', ['--no-install', 'pinlab', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(npx.status).toBe(0);
    expect(npx.stdout).toMatch(/scenario \[options\] <name>/);
    expect(npx.stdout).toMatch(/matrix/);
  });

  it.each([
    [['scenario', 'nope'], /no scenario named "nope" \(scenarios: pod-kill, /],
    [['scenario', 'pod-kill', '--replicas', '99'], /--replicas.*from 1 to 16/],
    [['scenario', 'pod-kill', '--store', 'etcd'], /--store.*Allowed choices are redis, memory/],
    [['matrix', '--scenarios', 'pod-kill,bogus'], /no scenario named "bogus"/],
  ])('bad input %j: a clear message, exit 2', (args, message) => {
    const { code, stderr } = pinlab(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('SIGTERM during a run stops the lab and leaves no pod behind', async () => {
    const child = spawn(process.execPath, ['app/cli/bin.js', 'scenario', 'pod-kill', '--runtime', 'process', '--pods', '2', '--clients', '2'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const labDirs = () => (existsSync(PID_ROOT) ? readdirSync(PID_ROOT) : []);
    const before = labDirs();
    await expect.poll(() => labDirs().length > before.length, { timeout: 15_000 }).toBe(true);
    const mine = labDirs().filter((d) => !before.includes(d));
    const pids = mine.flatMap((d) => readdirSync(join(PID_ROOT, d)).map((f) => JSON.parse(readFileSync(join(PID_ROOT, d, f), 'utf8')).pid as number));
    const code = await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGTERM: stopping the lab/);
    expect(labDirs().filter((d) => mine.includes(d))).toEqual([]);
    for (const pid of pids) expect(() => process.kill(pid, 0), `pod process ${pid} is gone`).toThrow();
  });

  it('scenario --json prints one object with the verdict fields', () => {
    const { code, stdout, stderr } = pinlab(['scenario', 'pod-kill', '--runtime', 'process', '--pods', '2', '--clients', '4', '--json']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(['scenario', 'config', 'requests', 'clientErrors', 'recoveries', 'stateLosses', 'latencyMs']);
    expect(result).toMatchObject({ scenario: 'pod-kill', config: { pods: 2, store: 'redis', pinning: 'pod' }, clientErrors: 0 });
    expect(result.requests).toBeGreaterThan(0);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
  });
});
