// `npm run bench:ui`: frames per second of the UI in Chromium while a real lab serves 200
// sessions (200 SDK clients at 1 call/s each), measured with requestAnimationFrame over 10 s.
// Everything shares this machine: the lab, its pods, Redis and the browser.
import { request } from 'undici';
import { launchChromium } from '../support/browser.ts';
import { serveLab } from '../support/serve.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const lab = await serveLab(['--runtime', process.env.BENCH_RUNTIME ?? 'process', '--replicas', '2', '--pods', '3']);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(lab.url);
  await page.getByTestId('pod-card-pod-1').waitFor({ timeout: 60_000 });
  const started = await request(`${lab.origin}/api/commands/traffic.start`, {
    method: 'POST', headers: { authorization: `Bearer ${lab.token}` }, body: JSON.stringify({ clients: SESSIONS, rate: 1 }),
  });
  if (started.statusCode !== 200) throw new Error(`traffic.start: ${await started.body.text()}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="session-row-"]').length >= n * 0.9, SESSIONS, { timeout: 120_000, polling: 500 });
  const measure = () => page.evaluate(() => new Promise<{ fps: number; worstMs: number }>((resolve) => {
    const times: number[] = [];
    const tick = (t: number) => {
      times.push(t);
      if (t - times[0]! < 10_000) requestAnimationFrame(tick);
      else {
        let worst = 0;
        for (let i = 1; i < times.length; i++) worst = Math.max(worst, times[i]! - times[i - 1]!);
        resolve({ fps: (times.length - 1) / ((t - times[0]!) / 1000), worstMs: worst });
      }
    };
    requestAnimationFrame(tick);
  }));
  const rows = await page.locator('[data-testid^="session-row-"]').count();
  const { fps, worstMs } = await measure();
  if (process.env.BENCH_SHOT) await page.screenshot({ path: process.env.BENCH_SHOT });
  console.log(`UI with ${rows} sessions on screen (${SESSIONS} clients × 1 call/s): ${fps.toFixed(1)} frames/s over 10 s, worst frame ${worstMs.toFixed(0)} ms (headless Chromium, software rendering)`);
} finally {
  await browser.close();
  await lab.stop();
}
