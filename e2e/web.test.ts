import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabSnapshot } from '../app/state/snapshot.ts';
import { LabPage } from './pages/lab-page.ts';
import { chromiumAvailable, CHROMIUM, launchChromium } from './support/browser.ts';
import { serveLab, type ServedLab } from './support/serve.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-results/e2e/', import.meta.url));
if (!chromiumAvailable()) console.warn(`SKIPPED: the web UI tests — no Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!chromiumAvailable())('the UI in web mode, against a real lab (pinlab serve)', () => {
  let lab: ServedLab;
  let browser: Browser;
  let page: Page;
  let ui: LabPage;
  /** Where the UI's export wrote the report (the lab's temp folder): removed after the suite. */
  let reportDir = '';

  const snapshot = async (): Promise<LabSnapshot> =>
    (await (await request(`${lab.origin}/api/snapshot`, { headers: { authorization: `Bearer ${lab.token}` } })).body.json()) as LabSnapshot;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [lab, browser] = await Promise.all([serveLab(['--replicas', '2', '--pods', '3', '--store', 'redis']), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    ui = new LabPage(page);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (reportDir) rmSync(reportDir, { recursive: true, force: true });
  });

  it('kill the busiest pod under traffic: the timeline tells the recovery, sessions move to live pods, no client sees an error', async () => {
    await ui.open(lab.url);
    await ui.waitForPods(3);
    await ui.startTraffic();
    await expect.poll(async () => Object.values((await snapshot()).sessions).filter((s) => s.client).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(8);

    const before = await snapshot();
    const busiest = Object.values(before.pods).filter((p) => p.state === 'ready').sort((a, b) => b.sessions - a.sessions)[0]!;
    expect(busiest.sessions).toBeGreaterThan(0);
    await ui.screenshot(join(ARTIFACTS, '1-traffic-light.png'));
    await ui.killPod(busiest.name);

    await expect.poll(() => ui.timelineText(), { timeout: 30_000 }).toMatch(new RegExp(`lost ${busiest.name}.*re-initialized on pod-\\d`, 's'));
    await expect.poll(async () => {
      const now = await snapshot();
      const live = new Set(Object.values(now.pods).filter((p) => p.state === 'ready').map((p) => p.address));
      const moved = Object.values(now.sessions).filter((s) => !s.deleted && s.client && s.pod === busiest.address);
      return { stillOnDeadPod: moved.length, allOnLivePods: Object.values(now.sessions).filter((s) => !s.deleted && s.client).every((s) => live.has(s.pod ?? '')) };
    }, { timeout: 30_000 }).toEqual({ stillOnDeadPod: 0, allOnLivePods: true });
    await page.waitForTimeout(1500); // more traffic after the recovery
    expect(await ui.clientErrors()).toBe(0);
    expect((await snapshot()).totals.clientErrors).toBe(0);
    await ui.screenshot(join(ARTIFACTS, '2-after-kill-light.png'));
    await page.emulateMedia({ colorScheme: 'dark' });
    await ui.screenshot(join(ARTIFACTS, '3-after-kill-dark.png'));
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('pinning on the service, recovery off and a replica restart: errors appear', async () => {
    await ui.setSwitch('switch-pinning', 'service');
    await ui.setSwitch('switch-recovery', 'off');
    // New sessions take the new pinning: the clients start over.
    await ui.stopTraffic();
    await ui.startTraffic();
    await ui.restartReplica('replica-1');
    await expect.poll(() => ui.clientErrors(), { timeout: 30_000 }).toBeGreaterThan(0);
    await ui.screenshot(join(ARTIFACTS, '4-service-pinning-errors.png'));
  });

  it('exports a bug report with versions, config, the timeline and session traces', async () => {
    const paths = await ui.exportReport();
    const markdownPath = /(\S+pinlab-report\.md)/.exec(paths)?.[1];
    expect(markdownPath).toBeDefined();
    reportDir = dirname(markdownPath!);
    const markdown = readFileSync(markdownPath!, 'utf8');
    expect(markdown).toMatch(/^# Pinlab report/);
    expect(markdown).toMatch(/## Versions[\s\S]*- node: v\d+/);
    expect(markdown).toMatch(/pinning service, recovery off/);
    expect(markdown).toMatch(/re-initialized on 127\.0\.0\.1:\d+/);
    expect(markdown).toMatch(/## Sessions/);
    const json = JSON.parse(readFileSync(markdownPath!.replace(/\.md$/, '.json'), 'utf8'));
    expect(json.verdict.clientErrors).toBeGreaterThan(0);
    expect(json.sessions.length).toBeGreaterThan(0);
  });
});
