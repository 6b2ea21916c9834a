import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { serveLab, type ServedLab } from './support/serve.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pinlab-first-run-'));
const clone = join(dir, 'pinlab');
// A new user's shell: the machine's own environment (its proxy and certificate settings
// included), Node on the PATH, and none of what CI, npm or the tests set (REDISMS_*, PINLAB_*, …).
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(REDISMS_|PINLAB_|npm_|VITEST|NODE_ENV$|TEST$|CI$)/i.test(key)),
);
cleanEnv.PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
let served: ServedLab | null = null;

afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the first run, as a new user does it', () => {
  it('a fresh clone installs with the README\'s command and nothing set, and pinlab serve serves the built UI', async () => {
    // The committed tree: what a user clones (work not yet committed is not in it).
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: clone, env: cleanEnv, encoding: 'utf8', timeout: 8 * 60_000 });
    const installOutput = `${install.stdout}\n${install.stderr}`;
    expect(install.status, installOutput).toBe(0);
    // Redis is neither downloaded nor built at install time.
    expect(installOutput).not.toMatch(/download\.redis\.io|Couldnt download|checking Redis binaries/);
    expect(existsSync(join(clone, 'node_modules', '.cache', 'redis-memory-server'))).toBe(false);
    expect(existsSync(join(clone, 'out'))).toBe(false);

    served = await serveLab(['--no-start'], { root: clone, env: cleanEnv });
    expect(served.output()).toMatch(/building the app \(the app is not built yet\)…\nbuilt in [\d.]+ s/);
    const page = await fetch(served.url);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).not.toMatch(/not built yet/);
    expect(html).toContain('<meta name="pinlab-token"');
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
    expect(script, html).toBeTruthy();
    const asset = await fetch(new URL(script!, served.origin));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(10_000);
  }, 10 * 60_000);
});
