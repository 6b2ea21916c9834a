/// <reference types="vite/client" />
import type { PinlabBridge } from '../../app/api/bridge.ts';

declare global {
  interface Window {
    /** Put there by Electron's preload; absent in web mode. */
    pinlab?: PinlabBridge;
  }
}

export {};
