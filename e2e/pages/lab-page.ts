import type { Page } from 'playwright-core';

/** The lab's page, as a test drives it: by the UI's test ids, never by its layout. */
export class LabPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
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

  async restartReplica(id: string): Promise<void> {
    await this.page.getByTestId(`replica-restart-${id}`).click();
  }

  async clientErrors(): Promise<number> {
    return Number((await this.page.getByTestId('client-errors-total').textContent())?.replace(/\D/g, '') ?? NaN);
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
