import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../test/processes.ts';
import { HEADER } from './table.ts';

function bench(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['proxy-core/bench/proxy.bench.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The table's rows, cell by cell (header and rule left out). */
function rows(stdout: string): string[][] {
  const lines = stdout.split('\n').filter((line) => line.startsWith('| ')).map((line) => line.slice(2, -2).split(' | ').map((cell) => cell.trim()));
  expect(lines[0], 'the header').toEqual(HEADER);
  return lines.slice(1);
}

// The bench's shape, not its figures: figures are the machine's.
describe('npm run bench:proxy', () => {
  it('runs a row through pinlab-proxy with Redis and prints it in the side-by-side table, with one Redis command per follow-up', () => {
    const { code, stdout, stderr } = bench(['--rows', 'redis', '--sessions', '2', '--duration', '1', '--warmup', '0.5', '--row-warmup', '500']);
    expect(code, stderr).toBe(0);
    const [row, ...more] = rows(stdout);
    expect(more).toEqual([]);
    const cell = Object.fromEntries(HEADER.map((name, i) => [name, row![i]]));
    expect(cell).toMatchObject({ target: 'pinlab-proxy, Redis store', sessions: '2', errors: '0', 'Redis cmds/req': '1.00', 'CPU vs HAProxy': '—' });
    for (const name of ['req/s', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'Redis CPU µs/req']) expect(Number(cell[name]), name).toBeGreaterThan(0);
    expect(stdout).toMatch(/2 pod\(s\) of server-everything/);
    expect(stdout).toMatch(/Not pinned: 2 core|Pinned with taskset/);
    expect(stdout).toMatch(/warmed up by 500 requests \(2 sessions; 20 s at most\) before its first session count/);
  });

  it('runs the floor studies as rows beside the bare pass-through, each session count on the row\'s one warm target', () => {
    const { code, stdout, stderr } = bench(['--rows', 'bare,lean-upstream,lean-server,lean', '--sessions', '1,3', '--duration', '0.5', '--warmup', '0.2', '--row-warmup', '500', '--pod-server', 'stub']);
    expect(code, stderr).toBe(0);
    const table = rows(stdout).map((row) => Object.fromEntries(HEADER.map((name, i) => [name, row[i]])));
    expect(table.map((cell) => [cell.target, cell.sessions, cell.errors])).toEqual([
      ['bare Node pass-through (no MCP logic)', '1', '0'], ['bare Node pass-through (no MCP logic)', '3', '0'],
      ['floor study: bare, raw-socket upstream', '1', '0'], ['floor study: bare, raw-socket upstream', '3', '0'],
      ['floor study: bare, raw-socket server', '1', '0'], ['floor study: bare, raw-socket server', '3', '0'],
      ['floor study: raw sockets both sides', '1', '0'], ['floor study: raw sockets both sides', '3', '0'],
    ]);
    for (const cell of table) for (const name of ['req/s', 'p50 ms', 'proxy CPU µs/req']) expect(Number(cell[name]), `${cell.target} ${name}`).toBeGreaterThan(0);
    expect(stdout).toMatch(/Floor studies \(proxy-core\/bench\/floor\/\): .* not proxies/);
  });

  it('says "not installed" in the HAProxy row where there is no HAProxy', () => {
    const { code, stdout, stderr } = bench(['--rows', 'haproxy', '--sessions', '1', '--duration', '1'], { PINLAB_BENCH_HAPROXY: '/nonexistent/haproxy' });
    expect(code, stderr).toBe(0);
    expect(rows(stdout)).toEqual([['HAProxy, stick table on the header', '1', 'not installed', ...HEADER.slice(3).map(() => '—')]]);
  });

  it.each([
    [['--rows', 'nginx'], /--rows: unknown row "nginx"; rows are direct, haproxy, bare, lean-upstream, lean-server, lean, memory, redis, workers/],
    [['--row-warmup', '1.5'], /--row-warmup: expected a whole number above 0/],
    [['--sessions', '0'], /--sessions: expected a whole number above 0 and at most 1024, got "0"/],
    [['--duration', 'long'], /--duration: expected seconds above 0/],
    [['--pod-server', 'demo'], /--pod-server: expected everything or stub, got "demo"/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('bad options %j: a message naming the option, exit 2', (args, message) => {
    const { code, stderr } = bench(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
