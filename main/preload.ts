// The preload: puts the lab's bridge on `window.pinlab`, and nothing else. It runs sandboxed,
// so it is bundled whole into one CommonJS file whose only require is `electron`; it imports
// types, the channel names and one dependency-free helper.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { LabMessage, PinlabBridge } from '../app/api/bridge.ts';
import type { Command, CommandArgs, Reply } from '../app/api/contract.ts';
import { replyFromRejection } from './bridge-reply.ts';
import { CHANNELS } from './channels.ts';

function subscriptionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const bridge: PinlabBridge = {
  async invoke<C extends Command>(command: C, args?: CommandArgs<C>): Promise<Reply<C>> {
    try {
      return (await ipcRenderer.invoke(CHANNELS.invoke, command, args)) as Reply<C>;
    } catch (error) {
      return replyFromRejection(error);
    }
  },

  subscribe(listener: (message: LabMessage) => void): () => void {
    const id = subscriptionId();
    // Only the payload reaches the page, never Electron's event (it carries `sender`).
    const onMessage = (_event: IpcRendererEvent, to: unknown, message: LabMessage) => {
      if (to === id) listener(message);
    };
    ipcRenderer.on(CHANNELS.message, onMessage);
    // "Ready": main answers with the snapshot of now, then every event batch after it.
    ipcRenderer.send(CHANNELS.subscribe, id);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      ipcRenderer.removeListener(CHANNELS.message, onMessage);
      ipcRenderer.send(CHANNELS.unsubscribe, id);
    };
  },
};

contextBridge.exposeInMainWorld('pinlab', bridge);
