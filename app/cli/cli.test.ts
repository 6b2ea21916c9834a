import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quote } from 'shell-quote';
import { PID_ROOT } from '../pods/process-runtime.ts';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../proxy-core/test/processes.ts';
import { affinitySchema, LAB_DEFAULTS, LIMITS, pinningSchema, runtimeSchema, storeSchema, TRAFFIC_DEFAULTS } from '../config.ts';

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
    [['scenario', 'pod-kill', '--pods', '33'], /--pods.*expected a whole number from 1 to 32, got "33"/],
    [['scenario', 'pod-kill', '--recovery', 'maybe'], /--recovery.*expected on or off \(or true\/false, yes\/no, 1\/0\), got "maybe"/],
    [['scenario', 'pod-kill', '--store', 'etcd'], /--store.*Allowed choices are redis, memory/],
    [['matrix', '--scenarios', 'pod-kill,bogus'], /no scenario named "bogus"/],
    [['scenario', 'pod-kill', '--server-image', 'mine', '--server-port', '3000', '--server-command', 'node s.js'], /'--server-image <image>' cannot be used with option '--server-command <command>'/],
    [['serve', '--no-start', '--server-image', 'mine'], /'--server-port <port>' is required with --server-image/],
    [['scenario', 'pod-kill', '--server-command', 'node s.js', '--server-port', '3000'], /'--server-port <port>' is for --server-image/],
    [['matrix', '--server-image', 'mine', '--server-port', '70000'], /'--server-port <port>'.*from 1 to 65535/],
    [['report', '--server-command', 'node s.js', '--server-env', 'NOEQUALS'], /'--server-env <K=V>'.*expected NAME=VALUE/],
    [['scenario', 'pod-kill', '--server-command', 'node s.js', '--server-env', '1X=y'], /'--server-env <K=V>'.*expected NAME=VALUE/],
    [['scenario', 'pod-kill', '--server-command', 'node s.js | tee log'], /'--server-command <command>'.*"\|" is shell syntax/],
    [['scenario', 'pod-kill', '--server-command', '  '], /'--server-command <command>'.*expected a command line/],
    [['scenario', 'pod-kill', '--server-command', 'node "my server.js --port {port}'], /'--server-command <command>'.*a " quote is never closed/],
    [['scenario', 'pod-kill', '--call', 'echo', '--call-args', '{message:'], /'--call-args <json>'.*not JSON/],
    [['scenario', 'pod-kill', '--call', 'echo', '--call-args', '["hi"]'], /'--call-args <json>'.*expected a JSON object/],
    [['scenario', 'pod-kill', '--call-args', '{}'], /'--call-args <json>' needs --call/],
    [['serve', '--no-start', '--redis-url', 'localhost:6379'], /'--redis-url <url>'.*redis:\/\/ or rediss:\/\//],
    [['scenario', 'pod-kill', '--server-path', 'mcp', '--server-command', 'node s.js'], /'--server-path <path>'.*starting with \//],
    [['scenario', 'pod-kill', '--server-port-env', 'PORT'], /'--server-port-env <name>' needs --server-command/],
  ])('bad input %j: a clear message in one line, exit 2', (args, message) => {
    const { code, stderr } = pinlab(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('scenario warns of a known broken combination before it runs, one line with what to choose instead', () => {
    const { code, stderr } = pinlab(['scenario', 'redis-outage', '--store', 'memory', '--pinning', 'service', '--runtime', 'process']);
    expect(code).toBe(1); // the scenario itself does not apply: there is no Redis to stop
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: known broken combination — 2 replicas, each with its own memory store: .*: choose the Redis store, or one replica\.$/),
      expect.stringMatching(/^warning: known broken combination — pinning to the service: .*: choose pod pinning\.$/),
      'pinlab: redis-outage does not apply to this lab: the lab uses the memory store: there is no Redis to break',
    ]);
  });

  it('--help offers the lab schema\'s choices and defaults, and a count beyond its bounds is refused with them', () => {
    const { code, stdout } = pinlab(['scenario', '--help']);
    expect(code).toBe(0);
    const help = stdout.replace(/\s+/g, ' ');
    const choices = (schema: { options: readonly string[] }, fallback: string) => `(choices: ${schema.options.map((o) => `"${o}"`).join(', ')}, default: "${fallback}")`;
    expect(help).toContain(`--affinity <policy> how the ingress spreads requests ${choices(affinitySchema, LAB_DEFAULTS.affinity)}`);
    expect(help).toContain(`--runtime <kind> where pods run ${choices(runtimeSchema, LAB_DEFAULTS.runtime)}`);
    expect(help).toContain(`--store <kind> session store ${choices(storeSchema, LAB_DEFAULTS.store)}`);
    expect(help).toContain(`--pinning <kind> what a session record pins ${choices(pinningSchema, LAB_DEFAULTS.pinning)}`);
    expect(help).toContain(`--replicas <n> proxy replicas (default: ${LAB_DEFAULTS.replicas})`);
    expect(help).toContain(`--pods <m> backend pods (default: ${LAB_DEFAULTS.pods})`);
    expect(help).toContain(`--clients <k> simulated MCP clients (default: ${TRAFFIC_DEFAULTS.clients})`);
    expect(help).toContain(`--recovery <on|off> transparent re-initialization (default: ${LAB_DEFAULTS.recovery ? 'on' : 'off'})`);
    for (const [flag, { min, max }] of [['--pods', LIMITS.pods], ['--replicas', LIMITS.replicas], ['--clients', LIMITS.clients]] as const) {
      const { code: refused, stderr } = pinlab(['scenario', 'pod-kill', flag, String(max + 1)]);
      expect(refused).toBe(2);
      expect(stderr).toContain(`from ${min} to ${max}, got "${max + 1}"`);
    }
  });

  it('--help of each lab command tells how your server gets its port', () => {
    for (const command of ['scenario', 'matrix', 'report', 'serve']) {
      const { code, stdout } = pinlab([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/--server-image <image>/);
      expect(stdout.replace(/\s+/g, ' ')).toMatch(/each pod gets a free port in \$PORT \(see --server-port-env\) and wherever an argument holds \{port\}/);
    }
  });

  it('scenario with --server-command runs server-everything as the pods, and --call picks the tool', () => {
    const command = quote([process.execPath, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'streamableHttp']);
    const { code, stdout, stderr } = pinlab([
      'scenario', 'pod-kill', '--runtime', 'process', '--pods', '3', '--clients', '4', '--json',
      '--server-command', command, '--server-env', 'EVERYTHING_NOTE=a=b', '--call', 'echo', '--call-args', '{"message":"hi"}',
    ]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.config.backend).toEqual({
      kind: 'command', command: process.execPath, args: ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'streamableHttp'],
      portEnv: 'PORT', path: '/mcp', env: { EVERYTHING_NOTE: 'a=b' }, cwd: resolve(ROOT),
    });
    expect(result.config.call).toEqual({ tool: 'echo', args: { message: 'hi' } });
    expect(result.requests).toBeGreaterThan(0);
    // echo in flight at the kill may be answered "outcome unknown": these clients never listed its read-only hint through the proxy.
    expect(result.recoverableErrors).toBe(0);
    expect(result.recoveries).toBeGreaterThanOrEqual(1);
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
    expect(Object.keys(result)).toEqual([
      'scenario', 'config', 'requests', 'clientErrors', 'recoverableErrors', 'unknownOutcome', 'recoveries', 'stateLosses', 'slowCalls', 'longestWaitMs', 'latencyMs',
      'modern', 'handleLeaks', 'pileUp', 'brokenCombos',
    ]);
    expect(result).toMatchObject({ scenario: 'pod-kill', config: { pods: 2, store: 'redis', pinning: 'pod' }, recoverableErrors: 0 });
    expect(result.clientErrors).toBe(result.recoverableErrors + result.unknownOutcome + result.handleLeaks);
    expect(result.brokenCombos, 'the defaults are no known broken combination').toEqual([]);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
  });
});
