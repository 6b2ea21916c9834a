import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { redisServerBinary, RedisUnavailableError, systemRedisBinary, type RedisBinaryProgress } from './binary.ts';

const saved = { ...process.env };
const dirs: string[] = [];
afterEach(() => {
  for (const key of ['REDISMS_SYSTEM_BINARY', 'REDISMS_DOWNLOAD_URL', 'REDISMS_DOWNLOAD_DIR']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pinlab-redis-binary-'));
  dirs.push(dir);
  return dir;
}

/** A machine with no redis-server: only Node on the PATH, no well-known places. */
const bare = { env: { PATH: dirname(process.execPath) }, dirs: [] };

describe('finding redis-server', () => {
  it('uses the machine\'s own redis-server', () => {
    const found = systemRedisBinary();
    expect(found).toMatch(/redis-server$/);
  });

  it('finds none on a machine without one', () => {
    expect(systemRedisBinary(bare)).toBeNull();
  });

  it('says what to install when none is here and fetching one fails', async () => {
    // Fetching goes to a loopback port nothing listens on: it fails at once, on any machine.
    process.env.REDISMS_DOWNLOAD_URL = 'http://127.0.0.1:9/redis-stable.tar.gz';
    process.env.REDISMS_DOWNLOAD_DIR = tempDir();
    const progress: RedisBinaryProgress[] = [];
    const error = await redisServerBinary((p) => progress.push(p), bare).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toMatch(/no redis-server on this machine, and fetching one failed .*apt-get install redis-server, brew install redis/);
    expect(progress.map((p) => p.stage)).toEqual(['fetching']);
  });

  it('names a REDISMS_SYSTEM_BINARY that is not an executable', () => {
    const file = join(tempDir(), 'redis-server');
    writeFileSync(file, 'not a program');
    expect(() => systemRedisBinary({ env: { REDISMS_SYSTEM_BINARY: file } })).toThrow(/REDISMS_SYSTEM_BINARY is ".*", which is not an executable redis-server/);
  });
});

describe('a lab without Redis', () => {
  it('runs with the memory store and says why', async () => {
    process.env.REDISMS_SYSTEM_BINARY = join(tempDir(), 'missing-redis-server');
    const events: LabEvent[] = [];
    const lab = await Lab.start({ runtime: 'process', replicas: 1, pods: 1, ingressPort: 0 }, { onEvent: (e) => events.push(e) });
    try {
      expect(lab.config.store).toBe('memory');
      expect(lab.redisUrl()).toBeNull();
      const warning = events.find((e) => e.type === 'lab.log' && e.level === 'warn');
      expect(warning).toMatchObject({ message: expect.stringMatching(/not an executable redis-server.*memory store instead/) });
    } finally {
      await lab.stop();
    }
  });
});
