import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { until } from './lab.ts';
import { killChild } from './processes.ts';

/** Debian's dnsmasq, where it is installed (apt-get install dnsmasq); null elsewhere. */
export const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((file) => spawnSync(file, ['--version']).status === 0) ?? null;

/** The domain the test server answers for, alone: other names get NXDOMAIN, never a forwarded query. */
export const TEST_DOMAIN = 'pinlab.test';

/**
 * A real DNS server on loopback (dnsmasq, unprivileged port, no upstream): A records from a
 * hosts directory that dnsmasq re-reads by itself when a file in it changes.
 */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for `--dns-server`. */
  address: string;
  /** Makes `name` answer exactly `addresses` (none: NXDOMAIN); resolves once the server says so. */
  setRecords(name: string, addresses: string[]): Promise<void>;
  /** Stops answering (the port refuses queries) until `start`. */
  stop(): Promise<void>;
  /** Starts again on the same port with the same records. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  if (!DNSMASQ) throw new Error('dnsmasq is not installed');
  const dir = await mkdtemp(path.join(tmpdir(), 'pinlab-dns-'));
  const hosts = path.join(dir, 'hosts');
  await mkdir(hosts, { mode: 0o755 });
  await chmod(dir, 0o755); // dnsmasq started as root reads them as the user it switches to
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([address]);
  let child: ChildProcess | null = null;

  const launch = async () => {
    if (child) return;
    const args = [
      '--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', `--hostsdir=${hosts}`, `--local=/${TEST_DOMAIN}/`, '--local-ttl=0', `--pid-file=${path.join(dir, 'pid')}`,
    ];
    const started = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    started.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = started;
    started.once('exit', () => {
      if (child === started) child = null;
    });
    await until(`dnsmasq answering on ${address}`, async () => {
      if (started.exitCode !== null) throw new Error(`dnsmasq exited with ${started.exitCode}: ${stderr}`);
      try {
        await resolver.resolve4(`probe.${TEST_DOMAIN}`);
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOTFOUND'; // an answer: NXDOMAIN
      }
      return true;
    });
  };
  await launch();

  return {
    address,
    async setRecords(name, addresses) {
      const file = path.join(hosts, name);
      if (addresses.length === 0) await rm(file, { force: true });
      else {
        // Written beside the directory and moved in: dnsmasq never reads half a file.
        const temporary = path.join(dir, `${name}.tmp`);
        await writeFile(temporary, addresses.map((a) => `${a} ${name}\n`).join(''));
        await rename(temporary, file);
      }
      const wanted = [...addresses].sort().join(',');
      await until(`${name} answering ${wanted || 'nothing'}`, async () => {
        const answer = await resolver.resolve4(name).catch(() => [] as string[]);
        return answer.sort().join(',') === wanted;
      });
    },
    async stop() {
      if (child) await killChild(child, 'SIGTERM');
    },
    start: launch,
    async close() {
      if (child) await killChild(child, 'SIGTERM');
      resolver.cancel();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A port free on 127.0.0.1 now (TCP; dnsmasq takes the same number for UDP and TCP). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
