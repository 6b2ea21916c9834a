import type { Page } from 'playwright-core';
import type { AffinityPolicy, ClientsEra, PinningKind, RuntimeChoice, StoreKind } from '../../app/config.ts';
import type { ClientFault } from '../../app/shared/client-faults.ts';

/** One verdict row of a client check, as the panel shows it. */
export interface ShownVerdict {
  fault: string;
  /** `PASS`, `FAIL`, `N/A`; '' while not judged. */
  verdict: string;
  /** The row's whole text. */
  text: string;
}

/** The lab's page, as a test drives it: by the UI's test ids, never by its layout. */
export class LabPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
  }

  /** Fills the start panel's lab fields (`pods`, `replicas`, `runtime`…) by their test ids' suffixes. */
  async fillStart(fields: {
    replicas?: number; pods?: number; runtime?: RuntimeChoice; store?: StoreKind; affinity?: AffinityPolicy; pinning?: PinningKind;
  }): Promise<void> {
    if (fields.replicas !== undefined) await this.page.getByTestId('start-replicas').fill(String(fields.replicas));
    if (fields.pods !== undefined) await this.page.getByTestId('start-pods').fill(String(fields.pods));
    if (fields.runtime) await this.page.getByTestId('start-runtime').selectOption(fields.runtime);
    if (fields.store) await this.page.getByTestId('start-store').selectOption(fields.store);
    if (fields.affinity) await this.page.getByTestId('start-affinity').selectOption(fields.affinity);
    if (fields.pinning) await this.page.getByTestId('start-pinning').selectOption(fields.pinning);
  }

  /** The broken-combination warnings shown in the start panel (`start`) or the control bar (`control`), one line each. */
  brokenCombos(where: 'start' | 'control'): Promise<string[]> {
    return this.page.getByTestId(`${where}-broken-combos`).locator('li').allInnerTexts();
  }

  /** Picks "command" as the server under test and fills its fields as a person types them. */
  async fillCommandServer(server: { command: string; portEnv?: string; path?: string; env?: string }): Promise<void> {
    await this.page.getByTestId('start-server-command').click();
    await this.page.getByTestId('start-command').fill(server.command);
    if (server.portEnv !== undefined) await this.page.getByTestId('start-port-env').fill(server.portEnv);
    if (server.path !== undefined) await this.page.getByTestId('start-path').fill(server.path);
    if (server.env !== undefined) await this.page.getByTestId('start-env').fill(server.env);
  }

  /** Presses Start and waits until the lab runs (the control bar shows) or the start failed (the error banner shows). */
  async startLab(): Promise<void> {
    await this.page.getByTestId('start-lab').click();
    await this.page.locator('[data-testid="stop-lab"], [data-testid="error-banner"]').first().waitFor({ timeout: 120_000 });
  }

  /** `mcp-servers/everything 2.0.0`, as the header names the server under test. */
  async serverName(): Promise<string> {
    return (await this.page.getByTestId('server-name').textContent()) ?? '';
  }

  /** What the simulated clients call: a tool and its arguments as JSON text (the field shows the schema's placeholders first). */
  async pickCall(tool: string, args?: string): Promise<void> {
    await this.page.getByTestId('traffic-call').selectOption(tool);
    if (args !== undefined) await this.page.getByTestId('traffic-args').fill(args);
  }

  async callsTotal(): Promise<number> {
    return this.total('calls-total');
  }

  /** The messages of the error banner, newest last. */
  errorMessages(): Promise<string[]> {
    return this.page.getByTestId('error-message').allInnerTexts();
  }

  podCard(name: string) {
    return this.page.getByTestId(`pod-card-${name}`);
  }

  async waitForPods(count: number): Promise<void> {
    await this.page.waitForFunction((n) => document.querySelectorAll('[data-testid^="pod-card-"]').length >= n, count, { timeout: 60_000 });
  }

  async startTraffic(): Promise<void> {
    await this.page.getByTestId('traffic-start').click();
  }

  /** How many clients the next traffic start runs, of which era (with `mix`, the modern share from 0 to 1). */
  async setTraffic(traffic: { clients?: number; era?: ClientsEra; modernShare?: number }): Promise<void> {
    if (traffic.clients !== undefined) await this.page.getByTestId('traffic-clients').fill(String(traffic.clients));
    if (traffic.era) await this.page.getByTestId('traffic-era').selectOption(traffic.era);
    if (traffic.modernShare !== undefined) await this.page.getByTestId('traffic-modern-share').fill(String(traffic.modernShare));
  }

  /** The era badge the sessions table carries (`legacy`: every session is of that era), as its text says it. */
  async sessionsEra(): Promise<string> {
    return (await this.page.getByTestId('sessions-era').textContent()) ?? '';
  }

  /** The sessionless clients the sessions panel lists: name (as the row's test id says) and era badge. */
  async sessionlessClients(): Promise<{ name: string; era: string }[]> {
    return this.page.locator('[data-testid^="sessionless-row-"]').evaluateAll((rows) => rows.map((row) => ({
      name: row.getAttribute('data-testid')!.replace('sessionless-row-', ''),
      era: row.querySelector('[data-era]')?.textContent ?? '',
    })));
  }

  /** The ingress's URL, as the "connect your own client" panel shows it. */
  async ingressUrl(): Promise<string> {
    return (await this.page.getByTestId('ingress-url').textContent()) ?? '';
  }

  /** The clients from outside the lab, as listed at the ingress: their clientInfo names, most recent first. */
  externalClients(): Promise<string[]> {
    return this.page.getByTestId('external-client-name').allInnerTexts();
  }

  /** What an external client's entry says (name, version, era, sessions, last seen). */
  externalClient(name: string) {
    return this.page.getByTestId(`external-client-${name}`);
  }

  /** Runs "Check this client" with these faults only, and waits for the check to end (a verdict on each, or its error). */
  async checkClient(name: string, faults: readonly ClientFault[], timeoutMs = 120_000): Promise<void> {
    for (const box of await this.page.locator('[data-testid^="check-fault-"]').all()) {
      const fault = (await box.getAttribute('data-testid'))!.replace('check-fault-', '') as ClientFault;
      await box.setChecked(faults.includes(fault));
    }
    await this.page.getByTestId(`check-client-${name}`).click();
    await this.page.getByTestId('client-check').waitFor();
    await this.page.waitForFunction(() => !/^aiming/.test(document.querySelector('[data-testid="client-check-summary"]')?.textContent ?? 'aiming'),
      undefined, { timeout: timeoutMs });
  }

  /** The client check's rows: each fault with its verdict word and what the row says. */
  async verdicts(): Promise<ShownVerdict[]> {
    return this.page.locator('[data-testid="client-check"] tbody tr').evaluateAll((rows) => rows.map((row) => ({
      fault: row.getAttribute('data-testid')!.replace('verdict-', ''),
      verdict: row.querySelector('[data-testid$="-word"]')?.textContent ?? '',
      text: (row as HTMLElement).innerText,
    })));
  }

  async checkSummary(): Promise<string> {
    return (await this.page.getByTestId('client-check-summary').textContent()) ?? '';
  }

  /** Sets a two-position switch (`switch-pinning`, `switch-recovery`) and waits until the lab took it. */
  async setSwitch(testId: string, value: string): Promise<void> {
    const toggle = this.page.getByTestId(testId);
    if ((await toggle.getAttribute('data-value')) !== value) await toggle.click();
    await this.page.waitForFunction(([id, v]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value') === v, [testId, value], { timeout: 15_000 });
  }

  async stopTraffic(): Promise<void> {
    await this.page.getByTestId('traffic-stop').click();
    await this.page.waitForFunction(() => !(document.querySelector('[data-testid="traffic-stop"]') as HTMLButtonElement | null)?.disabled === false, undefined, { timeout: 30_000 });
  }

  async killPod(name: string): Promise<void> {
    await this.page.getByTestId(`pod-kill-${name}`).click();
  }

  /** Pauses a pod from its card (it keeps its connections and answers nothing) and waits until its card says paused. */
  async pausePod(name: string): Promise<void> {
    await this.page.getByTestId(`pod-pause-${name}`).click();
    await this.page.getByTestId(`pod-unpause-${name}`).waitFor({ timeout: 15_000 });
  }

  async unpausePod(name: string): Promise<void> {
    await this.page.getByTestId(`pod-unpause-${name}`).click();
    await this.page.getByTestId(`pod-pause-${name}`).waitFor({ timeout: 15_000 });
  }

  /**
   * What a pod's card says of its health probes, as it reads (line by line); '' while no
   * replica marks it unhealthy. (Read without waiting: the note comes and goes.)
   */
  async podHealth(name: string): Promise<string> {
    return (await this.page.getByTestId(`pod-health-${name}`).allInnerTexts())[0] ?? '';
  }

  /** The calls waiting on a pod, as its card says them, and whether they are highlighted as late ('' when its card shows none). */
  async podWaiting(name: string): Promise<{ text: string; late: boolean }> {
    const [shown] = await this.page.getByTestId(`pod-waiting-${name}`).evaluateAll((elements) =>
      elements.map((element) => ({ text: element.textContent ?? '', late: element.getAttribute('data-late') === 'true' })));
    return shown ?? { text: '', late: false };
  }

  async restartReplica(id: string): Promise<void> {
    await this.page.getByTestId(`replica-restart-${id}`).click();
  }

  /** Client errors routing can fix (the header's): what pinning, Redis and recovery keep at 0. */
  async recoverableErrors(): Promise<number> {
    return this.total('recoverable-errors-total');
  }

  /** Calls in flight on a pod that died or hung, honestly answered "outcome unknown" (the header's). */
  async unknownOutcomes(): Promise<number> {
    return this.total('unknown-outcome-total');
  }

  private async total(testId: string): Promise<number> {
    return Number((await this.page.getByTestId(testId).textContent())?.replace(/\D/g, '') ?? NaN);
  }

  timelineText(): Promise<string> {
    return this.page.getByTestId('timeline').innerText();
  }

  async sessionRows(): Promise<number> {
    return this.page.locator('[data-testid^="session-row-"]').count();
  }

  async exportReport(): Promise<string> {
    await this.page.getByTestId('export-report').click();
    const paths = this.page.getByTestId('report-paths');
    await paths.waitFor({ timeout: 30_000 });
    return paths.innerText();
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: false });
  }
}
