import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LabMessage } from '../app/api/bridge.ts';
import { LabService } from '../app/api/lab-service.ts';
import { appPage } from './guards.ts';
import { CommandGate } from './shutdown.ts';

// Electron's ipcMain, as far as ipc.ts uses it: handle/removeHandler for invoke, on for the rest.
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  const ipcMain = {
    handle: (channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, handler);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
    on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
    },
    removeAllListeners: (channel: string) => listeners.delete(channel),
  };
  return { handlers, listeners, ipcMain };
});
vi.mock('electron', () => ({ ipcMain: fake.ipcMain }));
const { registerIpc } = await import('./ipc.ts');

const INDEX = join('/opt/pinlab/out/renderer/index.html');
const APP_URL = `${pathToFileURL(INDEX).href}#/`;
const page = appPage({ indexHtml: INDEX, platform: 'linux' });

/** A webContents as far as ipc.ts uses it. */
class FakeContents extends EventEmitter {
  sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  isDestroyed() {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]) {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }
  messages(id: string): LabMessage[] {
    return this.sent.filter((s) => s.channel === 'pinlab:message' && s.args[0] === id).map((s) => s.args[1] as LabMessage);
  }
}

function eventFrom(contents: FakeContents, url = APP_URL, top = true) {
  return { sender: contents, senderFrame: { url, parent: top ? null : {} } };
}

const invoke = (event: unknown, command: unknown, args?: unknown) => fake.handlers.get('pinlab:invoke')!(event, command, args);
const emit = (channel: string, event: unknown, ...args: unknown[]) => {
  for (const listener of fake.listeners.get(channel) ?? []) listener(event, ...args);
};
const record = (service: LabService, message: string) =>
  service['record']({ type: 'lab.log', at: Date.now(), level: 'info', message });

const disposers: (() => void)[] = [];
afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

function setup() {
  const service = new LabService();
  const gate = new CommandGate();
  const logs: string[] = [];
  const ipc = registerIpc({ service, page, gate, log: (m) => logs.push(m) });
  disposers.push(() => ipc.dispose());
  return { service, gate, logs, ipc };
}

describe('pinlab:invoke', () => {
  it('forwards a known command from the app page to the lab and answers its reply', async () => {
    setup();
    const contents = new FakeContents();
    expect(await invoke(eventFrom(contents), 'lab.status')).toEqual({ result: null });
    expect(await invoke(eventFrom(contents), 'snapshot.get')).toMatchObject({ result: { version: 0 } });
    expect(await invoke(eventFrom(contents), 'pod.kill', { pod: 'pod-1' })).toEqual({ error: { message: 'no lab is running: start one first (lab.start)' } });
    expect(await invoke(eventFrom(contents), 'pod.kill', { pod: 'web-1' })).toEqual({ error: { message: 'pod.kill: pod: a pod name such as pod-1' } });
  });

  it('refuses other senders and unknown commands with {error}, never a throw', async () => {
    const { logs } = setup();
    const contents = new FakeContents();
    expect(await invoke(eventFrom(contents, 'https://evil.example/'), 'lab.stop')).toEqual({ error: { message: 'refused: "https://evil.example/" is not Pinlab\'s page' } });
    expect(await invoke(eventFrom(contents, APP_URL, false), 'lab.stop')).toMatchObject({ error: { message: expect.stringMatching(/not a frame inside it/) } });
    expect(await invoke({ sender: contents, senderFrame: null }, 'lab.stop')).toEqual({ error: { message: 'refused: the sending frame is gone' } });
    expect(await invoke(eventFrom(contents), '__proto__')).toMatchObject({ error: { message: expect.stringMatching(/^unknown command "__proto__"/) } });
    expect(await invoke(eventFrom(contents), { command: 'lab.stop' })).toMatchObject({ error: { message: expect.stringMatching(/^unknown command of type object/) } });
    expect(logs).toHaveLength(3);
  });

  it('refuses commands once quitting has closed the gate', async () => {
    const { gate } = setup();
    gate.close();
    expect(await invoke(eventFrom(new FakeContents()), 'lab.status')).toEqual({ error: { message: 'Pinlab is quitting: the lab is being stopped and its pods removed' } });
  });
});

describe('pinlab:subscribe', () => {
  it('sends the ready page the snapshot, then the batches, to its own webContents under its id', async () => {
    const { service } = setup();
    const contents = new FakeContents();
    const other = new FakeContents();
    record(service, 'before ready');
    emit('pinlab:subscribe', eventFrom(contents), 'sub-1');
    expect(contents.messages('sub-1')).toHaveLength(1);
    expect((contents.messages('sub-1')[0] as { snapshot: { version: number } }).snapshot.version).toBe(1);
    record(service, 'after ready');
    await vi.waitFor(() => expect(contents.messages('sub-1')).toHaveLength(2));
    // 'before ready' came in the snapshot, never again.
    expect(contents.messages('sub-1')[1]).toEqual({ events: [expect.objectContaining({ message: 'after ready' })] });
    record(service, 'later');
    await vi.waitFor(() => expect(contents.messages('sub-1')).toHaveLength(3));
    expect(contents.messages('sub-1')[2]).toEqual({ events: [expect.objectContaining({ message: 'later' })] });
    expect(other.sent).toEqual([]);
  });

  it('ignores subscriptions from other pages and ids it did not expect', () => {
    const { logs } = setup();
    const contents = new FakeContents();
    emit('pinlab:subscribe', eventFrom(contents, 'http://localhost:9999/'), 'sub-1');
    emit('pinlab:subscribe', eventFrom(contents), { id: 1 });
    expect(contents.sent).toEqual([]);
    expect(logs).toEqual([expect.stringMatching(/^subscribe: refused: .* is not Pinlab's page/), 'subscribe: refused: not a subscription id']);
  });

  it('stops on unsubscribe, on a new document, and when the window is destroyed', async () => {
    const { service } = setup();
    const contents = new FakeContents();
    emit('pinlab:subscribe', eventFrom(contents), 'a');
    emit('pinlab:subscribe', eventFrom(contents), 'b');
    emit('pinlab:subscribe', eventFrom(contents), 'c');
    emit('pinlab:unsubscribe', eventFrom(contents), 'a');
    // A reload: navigation starts, the new page subscribes, the navigation commits.
    contents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    emit('pinlab:subscribe', eventFrom(contents), 'd');
    contents.emit('did-navigate');
    record(service, 'x');
    await vi.waitFor(() => expect(contents.messages('d')).toHaveLength(2));
    expect(contents.messages('a')).toHaveLength(1);
    expect(contents.messages('b')).toHaveLength(1);
    expect(contents.messages('c')).toHaveLength(1);
    contents.emit('destroyed');
    contents.destroyed = true;
    record(service, 'y');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(contents.messages('d')).toHaveLength(2);
  });

  it('removes its handlers when disposed', () => {
    const { ipc } = setup();
    ipc.dispose();
    expect(fake.handlers.has('pinlab:invoke')).toBe(false);
    expect(fake.listeners.has('pinlab:subscribe')).toBe(false);
    expect(fake.listeners.has('pinlab:unsubscribe')).toBe(false);
  });
});
