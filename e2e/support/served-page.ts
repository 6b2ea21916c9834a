import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import type { LabSnapshot } from '../../app/state/snapshot.ts';
import { LabPage } from '../pages/lab-page.ts';
import { chromiumAvailable, CHROMIUM, launchChromium } from './browser.ts';
import { serveLab, type ServedLab } from './serve.ts';

/** Where the UI tests put their screenshots. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

/** The UI tests need Chromium; without it they are skipped, and said so. */
export const NO_CHROMIUM = !chromiumAvailable();
if (NO_CHROMIUM) console.warn(`SKIPPED: the web UI tests — no Chromium at ${CHROMIUM} (apt-get install chromium)`);

export interface ServedPage {
  lab: ServedLab;
  browser: Browser;
  /** 1280×800. */
  page: Page;
  ui: LabPage;
  /** The lab's snapshot as its API serves it (`/api/snapshot`). */
  snapshot(): Promise<LabSnapshot>;
}

/**
 * `pinlab serve <args>` and a Chromium page for it, for the tests of one describe block:
 * started before them, stopped after. Call it in the block's body; its fields are set once
 * the tests run.
 */
export function servedPage(args: string[]): ServedPage {
  const served = {
    async snapshot() {
      const { lab } = served;
      return (await (await request(`${lab.origin}/api/snapshot`, { headers: { authorization: `Bearer ${lab.token}` } })).body.json()) as LabSnapshot;
    },
  } as ServedPage;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Both are started at once; whichever did start is kept, for afterAll to stop, even when the other failed.
    const [lab, browser] = await Promise.allSettled([serveLab(args), launchChromium()]);
    if (lab.status === 'fulfilled') served.lab = lab.value;
    if (browser.status === 'fulfilled') served.browser = browser.value;
    if (lab.status === 'rejected') throw lab.reason;
    if (browser.status === 'rejected') throw browser.reason;
    served.page = await served.browser.newPage({ viewport: { width: 1280, height: 800 } });
    served.ui = new LabPage(served.page);
  }, 120_000);
  afterAll(async () => {
    await served.browser?.close();
    await served.lab?.stop();
  });
  return served;
}
