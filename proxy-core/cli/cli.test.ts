import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from '../test/client.ts';
import { startPods } from '../test/pods.ts';
import { ROOT } from '../test/processes.ts';
import { startRedis } from '../test/redis.ts';
import { spawnReplica } from '../test/replicas.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['proxy-core/cli/bin.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pinlab-proxy command line', () => {
  it('--help lists every flag', () => {
    const { code, stdout } = cli(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--backend', '--store', '--redis-url', '--key-prefix', '--session-ttl', '--pinning', '--recovery',
      '--replica-id', '--unknown-session-status', '--max-body', '--store-required', '--log-format', '--max-initialize', '--health-interval',
      '--health-timeout', '--unhealthy-after', '--replay-in-flight', '--upstream-timeout', '--metrics-port', '--backend-dns', '--dns-refresh',
      '--dns-server', '--shutdown-delay', '--shutdown-timeout', '--workers', '--http-front']) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    [['--port', 'abc', '--backend', 'http://127.0.0.1:1/mcp'], /--port.*expected a port/],
    [['--port', '8080'], /required option '--backend <url>' or '--backend-dns <name:port\/path>' not specified/],
    [['--backend', 'ftp://x/mcp'], /--backend.*must use http/],
    [['--backend', 'http://127.0.0.1:1/a', '--backend', 'http://127.0.0.1:2/b'], /--backend.*same path/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--pinning', 'pods'], /--pinning.*Allowed choices are pod, service/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--recovery', 'maybe'], /--recovery.*expected on or off/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--key-prefix', 'a b'], /--key-prefix/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--bogus'], /unknown option '--bogus'/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--health-interval', 'soon'], /--health-interval.*expected seconds \(e\.g\. 1 or 0\.5\), got "soon"/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--health-timeout', '0'], /--health-timeout.*expected seconds from 0\.01/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--unhealthy-after', '0'], /--unhealthy-after.*from 1 to 100/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--replay-in-flight', 'some'], /--replay-in-flight.*Allowed choices are safe, all, none/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--http-front', 'fast'], /--http-front.*Allowed choices are node, lean/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--metrics-port', '70000'], /--metrics-port.*expected a port from 0 to 65535/],
    [['--backend-dns', 'mcp-backend'], /--backend-dns.*expected NAME:PORT or NAME:PORT\/path/],
    [['--backend-dns', '10.0.0.1:3001/mcp'], /--backend-dns.*"10\.0\.0\.1" is an address, not a name to resolve: use --backend http:\/\/10\.0\.0\.1:3001\/mcp/],
    [['--backend-dns', 'backend:70000'], /--backend-dns.*port 70000 .* not from 1 to 65535/],
    [['--backend-dns', 'backend:3001/mcp?x=1'], /--backend-dns.*must be a plain path/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--backend-dns', 'b.default.svc.cluster.local:3001'], /'--backend-dns <name:port\/path>' cannot be used with option '--backend <url>'/],
    [['--backend-dns', 'b:3001', '--dns-server', 'dns.local'], /--dns-server.*expected a DNS server's IP address and port/],
    [['--backend-dns', 'b:3001', '--dns-refresh', '0'], /--dns-refresh.*expected seconds from 0\.1/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--shutdown-delay', 'soon'], /--shutdown-delay.*expected seconds/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--shutdown-timeout', '-1'], /--shutdown-timeout.*expected seconds/],
    [['--backend', 'http://127.0.0.1:1/mcp', '--store', 'redis', '--workers', '0'], /--workers.*expected a worker count from 1 to 256, got 0/],
  ])('bad flags %j: one line naming the flag, exit 2', (args, message) => {
    const { code, stderr } = cli(args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('reads PINLAB_* variables, and exits 2 with --store-required when Redis is unreachable', () => {
    const { code, stderr } = cli([], {
      PINLAB_BACKEND: 'http://127.0.0.1:1/mcp', PINLAB_PORT: '0', PINLAB_STORE: 'redis', PINLAB_REDIS_URL: 'redis://127.0.0.1:1', PINLAB_STORE_REQUIRED: '1',
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1\/? is not reachable/);
  });

  it('a replica restarted (its memory gone) continues its sessions from Redis', async () => {
    const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
    cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
    const replica = await spawnReplica({ backends: pods.map((p) => p.url), store: 'redis', redisUrl: redis.url });
    cleanups.push(() => replica.kill());
    const id = await rawSession(replica.url);
    const before = await rawCall(replica.url, id, 'counter');
    await replica.restart();
    const after = await rawCall(replica.url, id, 'counter');
    expect(after.status).toBe(200);
    expect(after.body, 'same backend session: its counter went on').toContain('\\"count\\":2');
    expect(before.body).toContain('\\"count\\":1');
    expect(replica.output()).not.toMatch(/recovery\.started/);
  });

  it('--pinning service reproduces "session not found" after a replica restart; --pinning pod does not', async () => {
    const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
    cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
    const errorsWith = async (pinning: 'pod' | 'service', keyPrefix: string) => {
      const replica = await spawnReplica({
        backends: pods.map((p) => p.url), store: 'redis', redisUrl: redis.url, pinning, recovery: false, keyPrefix,
      });
      cleanups.push(() => replica.kill());
      let errors = 0;
      const attempt = async (what: () => Promise<unknown>) => {
        try {
          await what();
        } catch (error) {
          expect(String(error)).toMatch(/404|session not found/i);
          errors++;
        }
      };
      // Two sessions: the service's round robin puts them on different pods. (With service
      // pinning even the handshake may already land on the wrong pod.)
      const clients: Awaited<ReturnType<typeof connectClient>>['client'][] = [];
      for (let i = 0; i < 2; i++) await attempt(async () => clients.push((await connectClient(replica.url)).client));
      await replica.restart();
      for (let round = 0; round < 3; round++) {
        for (const client of clients) await attempt(() => call(client, 'whoami'));
      }
      await Promise.all(clients.map((client) => client.close()));
      return errors;
    };
    expect(await errorsWith('service', 'svc:'), 'service pinning: the bug shows').toBeGreaterThan(0);
    expect(await errorsWith('pod', 'pod:'), 'pod pinning: no errors').toBe(0);
  });
});
