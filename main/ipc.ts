import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { Command, Reply } from '../app/api/contract.ts';
import type { LabService } from '../app/api/lab-service.ts';
import { messageOf } from '../proxy-core/errors.ts';
import { CHANNELS } from './channels.ts';
import { isCommand, isSubscriptionId, senderRefusal, unknownCommandMessage, type AppPage, type SenderFrame } from './guards.ts';
import { Subscriptions } from './live-stream.ts';
import type { CommandGate } from './shutdown.ts';

export interface IpcOptions {
  service: LabService;
  page: AppPage;
  gate: CommandGate;
  log?: (message: string) => void;
}

const QUITTING: Reply<Command> = { error: { message: 'Pinlab is quitting: the lab is being stopped and its pods removed' } };

function frameOf(event: IpcMainEvent | IpcMainInvokeEvent): SenderFrame | null {
  const frame = event.senderFrame;
  return frame ? { url: frame.url, top: frame.parent === null } : null;
}

/**
 * The lab's API over IPC, for the app's own page only:
 * - `pinlab:invoke` (command, args) → LabService.invoke → `{result}` or `{error}`, never a throw;
 * - `pinlab:subscribe` (id) is the page saying it is ready: it gets `pinlab:message` (id, {snapshot}),
 *   then (id, {events}) batches, in order, on its own webContents; `pinlab:unsubscribe` (id) ends it.
 * Returns what removes the handlers (on quit).
 */
export function registerIpc(options: IpcOptions): { dispose(): void } {
  const { service, page, gate } = options;
  const log = options.log ?? ((message: string) => console.warn(`pinlab: ${message}`));
  const windows = new Map<WebContents, Subscriptions>();

  ipcMain.handle(CHANNELS.invoke, async (event, command: unknown, args: unknown): Promise<Reply<Command>> => {
    const refusal = senderRefusal(frameOf(event), page);
    if (refusal) {
      log(`${String(command)}: ${refusal}`);
      return { error: { message: refusal } };
    }
    if (!isCommand(command)) return { error: { message: unknownCommandMessage(command) } };
    try {
      return await gate.run<Reply<Command>>(() => service.invoke(command, args), () => QUITTING);
    } catch (error) {
      // LabService answers {error} itself; this is only for what it did not foresee.
      return { error: { message: messageOf(error) } };
    }
  });

  ipcMain.on(CHANNELS.subscribe, (event, id: unknown) => {
    const refusal = senderRefusal(frameOf(event), page);
    if (refusal) return log(`subscribe: ${refusal}`);
    if (!isSubscriptionId(id)) return log('subscribe: refused: not a subscription id');
    const contents = event.sender;
    const close = service.follow((message) => {
      if (!contents.isDestroyed()) contents.send(CHANNELS.message, id, message);
    }, { onSendError: (error) => log(`live stream: ${messageOf(error)}`) });
    subscriptionsOf(contents).add(id, close);
  });

  ipcMain.on(CHANNELS.unsubscribe, (event, id: unknown) => {
    if (senderRefusal(frameOf(event), page) || !isSubscriptionId(id)) return;
    windows.get(event.sender)?.remove(id);
  });

  function subscriptionsOf(contents: WebContents): Subscriptions {
    const known = windows.get(contents);
    if (known) return known;
    const subscriptions = new Subscriptions();
    windows.set(contents, subscriptions);
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) subscriptions.navigationStarted();
    });
    contents.on('did-navigate', () => subscriptions.navigated());
    contents.on('render-process-gone', () => subscriptions.clear());
    contents.once('destroyed', () => {
      subscriptions.clear();
      windows.delete(contents);
    });
    return subscriptions;
  }

  return {
    dispose() {
      ipcMain.removeHandler(CHANNELS.invoke);
      ipcMain.removeAllListeners(CHANNELS.subscribe);
      ipcMain.removeAllListeners(CHANNELS.unsubscribe);
      for (const subscriptions of windows.values()) subscriptions.clear();
      windows.clear();
    },
  };
}
