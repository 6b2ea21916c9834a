import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, NO_CHROMIUM, servedPage } from './support/served-page.ts';

// The reference MCP server (a devDependency), as a user would run their own: relative to where Pinlab runs (the repo root here).
const EVERYTHING = 'node node_modules/@modelcontextprotocol/server-everything/dist/index.js streamableHttp';

describe.skipIf(NO_CHROMIUM)('your own MCP server in the lab, set up from the UI (pinlab serve --no-start)', () => {
  const served = servedPage(['--no-start', '--runtime', 'process']);

  it('the start panel checks the server fields where they are typed', async () => {
    const { ui, page, lab } = served;
    await ui.open(lab.url);
    await ui.fillCommandServer({ command: 'node "unclosed', portEnv: '9PORT', path: 'mcp', env: 'not a pair' });
    await page.getByTestId('start-lab').click();
    await expect.poll(() => page.getByTestId('start-command-error').textContent()).toBe('a double quote is not closed');
    expect(await page.getByTestId('start-port-env-error').textContent()).toMatch(/environment variable name/);
    expect(await page.getByTestId('start-path-error').textContent()).toMatch(/start with \//);
    expect(await page.getByTestId('start-env-error').textContent()).toBe('line 1: write KEY=value');
    // Nothing was sent: no lab runs.
    expect(await page.getByTestId('stop-lab').count()).toBe(0);
  });

  it('runs server-everything as a command on 2 pods: the header names it, and echo calls go through with no client error', async () => {
    const { ui, page, snapshot } = served;
    await ui.fillStart({ pods: 2, runtime: 'process' });
    await ui.fillCommandServer({ command: EVERYTHING, portEnv: 'PORT', path: '/mcp', env: '' });
    expect(await page.getByTestId('start-invalid').count()).toBe(0);
    await ui.screenshot(join(ARTIFACTS, 'own-1-start-command.png'));
    await ui.startLab();
    expect(await ui.errorMessages()).toEqual([]);
    await ui.waitForPods(2);
    await expect.poll(() => ui.serverName(), { timeout: 30_000 }).toMatch(/^mcp-servers\/everything \d/);
    expect(await page.getByTestId('server-source').textContent()).toContain('server-everything/dist/index.js streamableHttp');

    // The arguments field starts from echo's input schema: its one required property, empty.
    await ui.pickCall('echo');
    expect(JSON.parse(await page.getByTestId('traffic-args').inputValue())).toEqual({ message: '' });
    expect(await page.getByTestId('traffic-args-summary').textContent()).toContain('message: string');

    // A typo is caught in the field; arguments the schema refuses are refused by the lab, in the banner.
    await ui.pickCall('echo', '{"message":');
    expect(await page.getByTestId('traffic-args-error').textContent()).toMatch(/^not JSON/);
    expect(await page.getByTestId('traffic-start').isDisabled()).toBe(true);
    await ui.pickCall('echo', '{"message": 1}');
    await ui.startTraffic();
    await expect.poll(() => ui.errorMessages(), { timeout: 15_000 }).toEqual([expect.stringMatching(/arguments for "echo" do not match its input schema/)]);
    await page.getByTestId('error-dismiss').click();

    await page.getByTestId('traffic-clients').fill('4');
    await ui.pickCall('echo', '{"message":"hi"}');
    await ui.startTraffic();
    await expect.poll(() => ui.timelineText(), { timeout: 15_000 }).toMatch(/calling tools\/call echo/);
    await expect.poll(() => ui.callsTotal(), { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
    expect(await ui.recoverableErrors()).toBe(0);
    expect(await ui.unknownOutcomes()).toBe(0);
    const after = await snapshot();
    expect(after.totals.clientErrors).toBe(0);
    // Each client's session is pinned to one of the two pods.
    expect(Object.values(after.sessions).filter((s) => s.client && !s.deleted).length).toBeGreaterThanOrEqual(4);
    await ui.screenshot(join(ARTIFACTS, 'own-2-everything-echo.png'));
  });

  it('traffic started elsewhere (the API, the CLI) shows in the control bar as it runs', async () => {
    const { ui, page, lab } = served;
    await ui.stopTraffic();
    const start = await request(`${lab.origin}/api/commands/traffic.start`, {
      method: 'POST', headers: { authorization: `Bearer ${lab.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ clients: 3, rate: 2 }),
    });
    expect(await start.body.json()).toEqual({ result: null });
    await expect.poll(() => page.getByTestId('traffic-clients').inputValue(), { timeout: 10_000 }).toBe('3');
    expect(await page.getByTestId('traffic-rate').inputValue()).toBe('2');
    // No tool was named: the clients make the default calls, not the echo picked before.
    expect(await page.getByTestId('traffic-call').inputValue()).toBe('');
    expect(await page.getByTestId('traffic-clients').isDisabled()).toBe(true);
    expect(await page.getByTestId('traffic-start').textContent()).toBe('running');
    await ui.screenshot(join(ARTIFACTS, 'own-3-traffic-started-elsewhere.png'));
    // Stopped, the bar keeps them as the next start's values, editable again.
    await ui.stopTraffic();
    await expect.poll(() => page.getByTestId('traffic-clients').isDisabled(), { timeout: 10_000 }).toBe(false);
    expect(await page.getByTestId('traffic-clients').inputValue()).toBe('3');
  });
});
