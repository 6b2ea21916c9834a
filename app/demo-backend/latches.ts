/** Named one-shot gates a tool can wait on and an HTTP call can open (used to prove streaming). */
export class Latches {
  private readonly gates = new Map<string, { opened: boolean; waiters: (() => void)[] }>();

  open(name: string): void {
    const gate = this.gate(name);
    gate.opened = true;
    for (const wake of gate.waiters.splice(0)) wake();
  }

  /** Resolves true when opened, false after `timeoutMs`. */
  wait(name: string, timeoutMs: number): Promise<boolean> {
    const gate = this.gate(name);
    if (gate.opened) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      gate.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private gate(name: string) {
    let gate = this.gates.get(name);
    if (!gate) {
      if (this.gates.size > 1000) this.gates.clear();
      this.gates.set(name, (gate = { opened: false, waiters: [] }));
    }
    return gate;
  }
}
