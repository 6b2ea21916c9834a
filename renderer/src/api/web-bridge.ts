import type { LabMessage, PinlabBridge } from '../../../app/api/bridge.ts';
import type { Command, CommandArgs, Reply } from '../../../app/api/contract.ts';

export type Connection = 'connecting' | 'live' | 'reconnecting';

/** A bridge that can also say whether its live stream is up (web mode's WebSocket can drop). */
export interface ObservableBridge extends PinlabBridge {
  onConnection?(listener: (connection: Connection) => void): () => void;
}

const RETRY_MS = [500, 1000, 2000, 4000];

/** The token web mode injects into the page; `?token=` works too (a page served by vite's dev server). */
export function pageToken(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="pinlab-token"]')?.content;
  return meta || new URLSearchParams(location.search).get('token') || '';
}

/** The lab's API over HTTP and its live stream over a WebSocket, on this page's own origin. */
export function webBridge(token: string, origin = location.origin): ObservableBridge {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const connectionListeners = new Set<(connection: Connection) => void>();
  const setConnection = (connection: Connection) => {
    for (const listener of connectionListeners) listener(connection);
  };

  return {
    async invoke<C extends Command>(command: C, args?: CommandArgs<C>): Promise<Reply<C>> {
      try {
        const response = await fetch(`${origin}/api/commands/${command}`, {
          method: 'POST', headers, body: args === undefined ? '' : JSON.stringify(args),
        });
        const body = (await response.json()) as Reply<C>;
        if ('result' in body || 'error' in body) return body;
        return { error: { message: `${command}: unexpected answer (HTTP ${response.status})` } };
      } catch (error) {
        return { error: { message: `${command}: the lab is not reachable (${(error as Error).message})` } };
      }
    },

    subscribe(listener: (message: LabMessage) => void): () => void {
      let socket: WebSocket | null = null;
      let closed = false;
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const url = `${origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(token)}`;

      const open = () => {
        setConnection(attempt === 0 ? 'connecting' : 'reconnecting');
        socket = new WebSocket(url);
        socket.onopen = () => {
          attempt = 0;
          setConnection('live');
        };
        // The server's first message on every connection is a fresh snapshot: a reconnect re-reads the lab.
        socket.onmessage = (message) => listener(JSON.parse(String(message.data)) as LabMessage);
        socket.onclose = () => {
          socket = null;
          if (closed) return;
          setConnection('reconnecting');
          timer = setTimeout(open, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
        };
      };
      open();
      return () => {
        closed = true;
        clearTimeout(timer);
        socket?.close();
      };
    },

    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}
