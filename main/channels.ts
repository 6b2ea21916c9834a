import { IPC } from '../app/api/bridge.ts';

/**
 * The IPC channels between main and preload: the bridge's three, plus one this transport
 * needs of its own. A subscription is named by an id the preload chooses; main tags each
 * message with it, and the preload says when it is done, so that a window which subscribes
 * and unsubscribes (a React effect re-running) leaves nothing behind in main.
 */
export const CHANNELS = {
  ...IPC,
  unsubscribe: 'pinlab:unsubscribe',
} as const;
