import type { LabEvent } from '../events.ts';
import type { LabSnapshot } from '../state/snapshot.ts';
import type { Command, CommandArgs, Reply } from './contract.ts';

/** A message of the lab's live stream: first the snapshot, then event batches, in order. */
export type LabMessage = { snapshot: LabSnapshot } | { events: LabEvent[] };

/**
 * What the UI holds of the lab: the typed commands and the live stream. Electron's preload
 * puts one on `window.pinlab` (over IPC); in web mode the renderer builds one over HTTP and
 * a WebSocket. The renderer sees only this type.
 */
export interface PinlabBridge {
  invoke<C extends Command>(command: C, args?: CommandArgs<C>): Promise<Reply<C>>;
  /** Calls `listener` with the snapshot, then every event batch; returns an unsubscribe. */
  subscribe(listener: (message: LabMessage) => void): () => void;
}

/** IPC channel names shared by main and preload. */
export const IPC = {
  invoke: 'pinlab:invoke',
  subscribe: 'pinlab:subscribe',
  message: 'pinlab:message',
} as const;
