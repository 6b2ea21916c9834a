import type { Page } from 'playwright-core';
import type { RuntimeChoice, StoreKind } from '../../app/config.ts';

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
  async fillStart(fields: { replicas?: number; pods?: number; runtime?: RuntimeChoice; store?: StoreKind }): Promise<void> {
    if (fields.replicas !== undefined) await this.page.getByTestId('start-replicas').fill(String(fields.replicas));
    if (fields.pods !== undefined) await this.page.getByTestId('start-pods').fill(String(fields.pods));
    if (fields.runtime) await this.page.getByTestId('start-runtime').selectOption(fields.runtime);
    if (fields.store) await this.page.getByTestId('start-store').selectOption(fields.store);
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
