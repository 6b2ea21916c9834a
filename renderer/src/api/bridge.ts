import { pageToken, webBridge, type ObservableBridge } from './web-bridge.ts';

/** Electron's preload bridge when there is one, else web mode's, over this page's origin. */
export function getBridge(): ObservableBridge {
  return window.pinlab ?? webBridge(pageToken());
}
