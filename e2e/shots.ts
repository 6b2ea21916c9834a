/**
 * Screenshots of "your own server in the lab", for a person to look at (1280×800, web mode):
 *
 *   npm run build && node e2e/shots.ts [dir]        (default dir: test-results/shots)
 *
 * 0 the start panel as it opens (image picked), 1 with a command server filled in, 2 its field errors, 3–4 a running lab
 * on server-everything calling `echo` (light, dark), 5 a stateless server's lab, 6 a lab on an
 * external Redis (a redis-server this script starts on a free loopback port), 7 the start panel
 * naming the broken combinations chosen, 8 a mixed-era lab (half the clients modern) with two
 * external SDK clients at the ingress (8b: its sessions panel), 9 the client check of one of them, verdict per fault (9b: dark).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { CLIENT_FAULT_NAMES } from '../app/shared/client-faults.ts';
import { LabPage } from './pages/lab-page.ts';
import { launchChromium } from './support/browser.ts';
import { serveLab } from './support/serve.ts';

const dir = resolve(process.argv[2] ?? 'test-results/shots');
mkdirSync(dir, { recursive: true });
const EVERYTHING = 'node node_modules/@modelcontextprotocol/server-everything/dist/index.js streamableHttp';
const STATELESS = 'node app/server/fixtures/stateless-server.ts';

const [lab, browser] = await Promise.all([serveLab(['--no-start', '--runtime', 'process']), launchChromium()]);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const ui = new LabPage(page);
  const shot = (name: string) => ui.screenshot(join(dir, name));
  await ui.open(lab.url);
  await page.getByTestId('start-server-image').click();
  await shot('0-start-image.png');

  await ui.fillCommandServer({ command: 'node "server.js', portEnv: 'port', path: 'mcp', env: 'DEBUG' });
  await page.getByTestId('start-lab').click();
  await page.getByTestId('start-server').scrollIntoViewIfNeeded();
  await shot('2-start-errors.png');

  await ui.fillStart({ pods: 2, runtime: 'process' });
  await ui.fillCommandServer({ command: EVERYTHING, portEnv: 'PORT', path: '/mcp', env: 'LOG_LEVEL=info' });
  await page.getByTestId('start-lab').focus();
  await page.getByTestId('start-server').scrollIntoViewIfNeeded();
  await shot('1-start-command.png');

  await ui.startLab();
  await ui.waitForPods(2);
  await page.waitForFunction(() => /everything/.test(document.querySelector('[data-testid="server-name"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  await ui.pickCall('echo', '{"message":"hi"}');
  await ui.startTraffic();
  await page.waitForTimeout(6000);
  await shot('3-running-everything.png');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('4-running-everything-dark.png');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.getByTestId('stop-lab').click();
  await page.getByTestId('start-lab').waitFor({ timeout: 60_000 });
  await ui.fillStart({ pods: 2, runtime: 'process' });
  await ui.fillCommandServer({ command: STATELESS, portEnv: 'PORT', path: '/mcp', env: '' });
  await ui.startLab();
  await ui.waitForPods(2);
  await page.waitForFunction(() => document.querySelector('[data-testid="server-stateless"]') !== null, undefined, { timeout: 30_000 });
  await ui.pickCall('add', '{"a":1,"b":2}');
  await ui.startTraffic();
  await page.waitForTimeout(4000);
  await shot('5-stateless.png');

  const port = await new Promise<number>((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await page.getByTestId('stop-lab').click();
    await page.getByTestId('start-lab').waitFor({ timeout: 60_000 });
    await ui.fillStart({ pods: 2, runtime: 'process' });
    await page.getByTestId('start-server-demo').click();
    await page.getByTestId('start-redis-url').fill(`redis://127.0.0.1:${port}`);
    await ui.startLab();
    await ui.waitForPods(2);
    await ui.pickCall('');
    await ui.startTraffic();
    await page.waitForTimeout(4000);
    await shot('6-external-redis.png');
  } finally {
    redis.kill();
  }

  await page.getByTestId('stop-lab').click();
  await page.getByTestId('start-lab').waitFor({ timeout: 60_000 });
  await page.getByTestId('start-server-demo').click();
  await ui.fillStart({ replicas: 3, pods: 3, runtime: 'process', store: 'memory', affinity: 'client-ip', pinning: 'service' });
  await page.getByTestId('start-broken-combos').scrollIntoViewIfNeeded();
  await shot('7-start-broken-combos.png');
  await ui.fillStart({ replicas: 2, store: 'redis', affinity: 'round-robin', pinning: 'pod' });
  await ui.startLab();
  await ui.waitForPods(3);
  await ui.setTraffic({ clients: 8, era: 'mix', modernShare: 0.5 });
  await ui.startTraffic();
  // Two external clients: the SDK's Client as shipped (never re-initializes after a 404), and one that does as the spec asks.
  const url = await ui.ingressUrl();
  const clients: ChildProcess[] = [[], ['--reinitialize']].map((flags) =>
    spawn(process.execPath, ['app/client-check/fixtures/sdk-client.ts', url, ...flags], { stdio: 'ignore' }));
  try {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="external-client-name"]').length === 2, undefined, { timeout: 30_000 });
    await page.waitForTimeout(5000);
    await shot('8-mixed-eras.png');
    await page.getByRole('region', { name: 'Sessions' }).screenshot({ path: join(dir, '8b-mixed-eras-sessions.png') });
    await ui.checkClient('sdk-client-reinitializing', CLIENT_FAULT_NAMES);
    await page.getByTestId('client-check').scrollIntoViewIfNeeded();
    await shot('9-client-check.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('9b-client-check-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });
  } finally {
    for (const client of clients) client.kill();
  }
  process.stdout.write(`screenshots in ${dir}\n`);
} finally {
  await browser.close();
  await lab.stop();
}
