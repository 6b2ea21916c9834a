import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const electronHere = existsSync(join(ROOT, 'node_modules', 'electron', 'path.txt')) || Boolean(process.env.PINLAB_ELECTRON);
if (electronHere) console.warn('SKIPPED: the npm start fallback test — Electron\'s binary is here, so npm start opens the desktop app instead');

const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

describe.skipIf(electronHere)('npm start where Electron\'s binary cannot be fetched', () => {
  it('says so in one line and serves the same UI in web mode', async () => {
    // Electron's installer is pointed at a loopback port nothing listens on: the fetch fails at once, on any machine.
    const child = spawn(process.execPath, ['scripts/start.ts', '--no-start', '--port', '0', '--ingress-port', '0', '--runtime', 'process'], {
      cwd: ROOT, env: { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', DISPLAY: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    stops.push(async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no web mode within 60 s:\n${output}`)), 60_000);
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          output += `${line}\n`;
          const match = /Pinlab web mode: (\S+)/.exec(line);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      }
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    const said = output.split('\n').filter((line) => /Electron/.test(line));
    expect(said, output).toEqual([expect.stringMatching(/^pinlab: fetching Electron's binary \(once\)… not possible here \(.+\): starting web mode instead\.$/)]);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<meta name="pinlab-token"');
  }, 90_000);
});
