import { describe, expect, it } from 'vitest';
import { closeLab, CommandGate } from './shutdown.ts';

const refused = () => 'refused';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CommandGate', () => {
  it('runs commands until closed, then refuses them', async () => {
    const gate = new CommandGate();
    expect(await gate.run(async () => 'ran', refused)).toBe('ran');
    gate.close();
    let ran = false;
    expect(await gate.run(async () => ((ran = true), 'ran'), refused)).toBe('refused');
    expect(ran).toBe(false);
    expect(gate.isClosed).toBe(true);
  });

  it('is idle once the commands running have finished, failed ones included', async () => {
    const gate = new CommandGate();
    await gate.idle();
    const first = deferred();
    const second = deferred();
    const a = gate.run(() => first.promise, () => undefined);
    const b = gate.run(() => second.promise.then(() => Promise.reject(new Error('failed'))), () => undefined);
    let idle = false;
    const waiting = gate.idle().then(() => (idle = true));
    first.resolve();
    await a;
    await Promise.resolve();
    expect(idle).toBe(false);
    second.resolve();
    await expect(b).rejects.toThrow('failed');
    await waiting;
    expect(idle).toBe(true);
  });
});

describe('closeLab', () => {
  it('closes the gate, lets a running command finish, then stops the lab and every lab still starting', async () => {
    const gate = new CommandGate();
    const steps: string[] = [];
    const start = deferred();
    const starting = gate.run(async () => {
      await start.promise;
      steps.push('lab.start finished');
    }, () => undefined);
    const closing = closeLab({
      gate,
      close: async () => void steps.push('service closed'),
      stopAll: async () => void steps.push('all labs stopped'),
      log: (message) => steps.push(message),
    });
    expect(await gate.run(async () => 'ran', refused)).toBe('refused');
    start.resolve();
    await starting;
    expect(await closing).toBe(true);
    expect(steps).toEqual(['lab.start finished', 'service closed', 'all labs stopped']);
  });

  it('does not wait for ever on a command, nor on a lab that will not stop', async () => {
    const gate = new CommandGate();
    void gate.run(() => new Promise(() => {}), () => undefined);
    const logs: string[] = [];
    let stoppedAll = false;
    const done = await closeLab({
      gate, graceMs: 20, timeoutMs: 20,
      close: () => new Promise(() => {}),
      stopAll: async () => void (stoppedAll = true),
      log: (message) => logs.push(message),
    });
    expect(done).toBe(false);
    expect(stoppedAll).toBe(false);
    expect(logs).toEqual([
      'a command is still running after 0.02 s: stopping the lab anyway',
      'stopping the lab took more than 0.02 s: quitting anyway; pods may be left behind (the next lab started removes them)',
    ]);
  });

  it('still stops every lab when closing the service fails, and says so', async () => {
    const logs: string[] = [];
    let stoppedAll = false;
    const done = await closeLab({
      gate: new CommandGate(),
      close: async () => {
        throw new Error('docker went away');
      },
      stopAll: async () => void (stoppedAll = true),
      log: (message) => logs.push(message),
    });
    expect(done).toBe(true);
    expect(stoppedAll).toBe(true);
    expect(logs).toEqual(['while stopping the lab: docker went away']);
  });
});
