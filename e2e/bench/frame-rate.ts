// `npm run bench:ui`: frames per second of the UI in Chromium while a real lab serves
// BENCH_SESSIONS live sessions (default 1000: that many SDK clients, BENCH_RATE calls/s each,
// default 0.2), measured with requestAnimationFrame over 10 s once the ramp-up is over.
// Everything shares this machine: the lab, its pods, Redis and the browser. On two cores the lab
// cannot serve a thousand clients at 1 call/s each (it peaks near 500 calls/s, then calls time
// out), so the default rate is what it can: the calls it really served in the window are printed
// with the frames.
import { request } from 'undici';
import type { Command } from '../../app/api/contract.ts';
import { callOutcome } from '../../app/shared/call-outcome.ts';
import type { LabSnapshot } from '../../app/state/snapshot.ts';
import { launchChromium } from '../support/browser.ts';
import { serveLab } from '../support/serve.ts';

const SESSIONS = positive('BENCH_SESSIONS', 1000);
const RATE = positive('BENCH_RATE', 0.2);
const WINDOW_MS = 10_000;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name}=${raw}: give a number above 0`);
  return value;
}

const lab = await serveLab(['--runtime', process.env.BENCH_RUNTIME ?? 'process', '--replicas', '2', '--pods', '3']);
const command = async (name: Command, args?: unknown): Promise<unknown> => {
  const reply = await request(`${lab.origin}/api/commands/${name}`, {
    method: 'POST', headers: { authorization: `Bearer ${lab.token}` }, body: args === undefined ? undefined : JSON.stringify(args),
  });
  const text = await reply.body.text();
  if (reply.statusCode !== 200) throw new Error(`${name}: ${text}`);
  return (JSON.parse(text) as { result: unknown }).result;
};
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(lab.url);
  await page.getByTestId('pod-card-pod-1').waitFor({ timeout: 60_000 });
  await command('traffic.start', { clients: SESSIONS, rate: RATE });
  // The topology names how many sessions it draws (the session list shows only the newest rows).
  // Measured once the ramp-up is over — every session drawn, or none added for 3 s after 90 % were
  // (at most a minute more) — the UI at 1000 live sessions, not the lab starting its last clients
  // on the same cores.
  const drawnCount = async () => Number(/^(\d+)/.exec(await page.locator('.topology .lines').getAttribute('aria-label') ?? '')?.[1] ?? 0);
  const since = performance.now();
  for (let last = -1, changedAt = since, mostAt: number | null = null; ; await new Promise((resolve) => setTimeout(resolve, 500))) {
    const now = await drawnCount();
    const at = performance.now();
    if (now !== last) [last, changedAt] = [now, at];
    if (now < SESSIONS * 0.9) {
      if (at - since < 300_000) continue;
      const { sessions } = await command('snapshot.get') as LabSnapshot;
      throw new Error(`fewer than ${SESSIONS * 0.9} sessions drawn after 5 min; the lab holds ${Object.keys(sessions).length} session records`);
    }
    mostAt ??= at;
    if (now >= SESSIONS || at - changedAt >= 3000 || at - mostAt >= 60_000) break;
  }
  const measure = () => page.evaluate((windowMs) => new Promise<{ fps: number; worstMs: number; p95Ms: number }>((resolve) => {
    const times: number[] = [];
    const tick = (t: number) => {
      times.push(t);
      if (t - times[0]! < windowMs) requestAnimationFrame(tick);
      else {
        const gaps = times.slice(1).map((x, i) => x - times[i]!).sort((a, b) => a - b);
        resolve({ fps: gaps.length / ((t - times[0]!) / 1000), worstMs: gaps.at(-1) ?? 0, p95Ms: gaps[Math.floor(gaps.length * 0.95)] ?? 0 });
      }
    };
    requestAnimationFrame(tick);
  }), WINDOW_MS);
  const drawn = await page.locator('.topology .lines').getAttribute('aria-label');
  const before = await command('snapshot.get') as LabSnapshot;
  const { fps, worstMs, p95Ms } = await measure();
  const after = await command('snapshot.get') as LabSnapshot;
  const served = (after.totals.calls - before.totals.calls) / (WINDOW_MS / 1000);
  const failed = after.totals.clientErrors - before.totals.clientErrors;
  if (process.env.BENCH_SHOT) await page.screenshot({ path: process.env.BENCH_SHOT });
  console.log(`UI drawing ${drawn} (${SESSIONS} clients × ${RATE} call/s asked; the lab served ${served.toFixed(0)} calls/s, ${failed} failed): `
    + `${fps.toFixed(1)} frames/s over ${WINDOW_MS / 1000} s, worst frame ${worstMs.toFixed(0)} ms, p95 ${p95Ms.toFixed(0)} ms (headless Chromium, software rendering)`);
  // The ramp-up's errors too: a thousand sessions opened at once is a load test of the lab itself.
  const { clientErrors, recoverableErrors } = after.totals;
  console.log(`since the traffic started: ${after.totals.calls} calls, ${clientErrors} client-visible error(s), ${recoverableErrors} of them recoverable (must be 0)`);
  for (const event of after.recent) if (event.type === 'traffic.call' && callOutcome(event) === 'recoverable-error') console.log(`  ${event.client} ${event.method}: ${event.error}`);
} finally {
  await browser.close();
  await lab.stop();
}
