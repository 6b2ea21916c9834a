import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { RedisBinary } from 'redis-memory-server';

/** A step of finding Redis, for the UI and the CLI: fetching and building it takes minutes. */
export interface RedisBinaryProgress {
  stage: 'found' | 'fetching' | 'fetched';
  message: string;
}

/** No `redis-server` here and none could be fetched: the message says what to install. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export const INSTALL_REDIS = 'install it (apt-get install redis-server, brew install redis, dnf install redis) or give the lab an external Redis URL (--redis-url)';

// Where package managers put redis-server: a desktop app started from a launcher may have a
// shorter PATH than a terminal (macOS apps get /usr/bin:/bin:/usr/sbin:/sbin).
const WELL_KNOWN_DIRS = ['/usr/bin', '/usr/local/bin', '/opt/homebrew/bin', '/usr/sbin', '/snap/bin'];

/** Where to look for `redis-server`; tests narrow it to pretend a machine has none. */
export interface RedisSearch {
  env?: NodeJS.ProcessEnv;
  dirs?: readonly string[];
}

/** The machine's own `redis-server`: `REDISMS_SYSTEM_BINARY`, else the PATH, else the usual places. */
export function systemRedisBinary({ env = process.env, dirs = WELL_KNOWN_DIRS }: RedisSearch = {}): string | null {
  const named = env.REDISMS_SYSTEM_BINARY;
  if (named) {
    if (executable(named)) return named;
    throw new RedisUnavailableError(`REDISMS_SYSTEM_BINARY is "${named}", which is not an executable redis-server: fix or unset it, or ${INSTALL_REDIS}`);
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8', env }).trim();
    if (found) return found;
  } catch {
    // not on the PATH: look where package managers put it
  }
  return dirs.map((dir) => join(dir, 'redis-server')).find(executable) ?? null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A `redis-server` to run: the machine's own, else one redis-memory-server fetches and builds
 * once into its cache (never at `npm install`: the package.json's `redisMemoryServer` config
 * turns that off). Throws `RedisUnavailableError`, saying what to install, when neither works.
 */
export async function redisServerBinary(onProgress: (progress: RedisBinaryProgress) => void = () => {}, search: RedisSearch = {}): Promise<string> {
  const system = systemRedisBinary(search);
  if (system) {
    onProgress({ stage: 'found', message: `using ${system}` });
    return system;
  }
  onProgress({ stage: 'fetching', message: 'no redis-server on this machine: fetching Redis and building it once (needs make and a C compiler; a few minutes)' });
  const started = Date.now();
  try {
    const built = await RedisBinary.getPath({ systemBinary: undefined });
    onProgress({ stage: 'fetched', message: `Redis built in ${Math.round((Date.now() - started) / 1000)} s: ${built}` });
    return built;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new RedisUnavailableError(`no redis-server on this machine, and fetching one failed (${reason}): ${INSTALL_REDIS}`, { cause: error });
  }
}
