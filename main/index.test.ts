import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Electron cannot be launched here: index.ts runs against a stand-in of the parts it uses.
const fake = await vi.hoisted(async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const calls: string[] = [];
  class Contents extends Emitter {
    windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      this.windowOpenHandler = handler;
    }
    isDestroyed() {
      return false;
    }
    send() {}
  }
  const windows: Window[] = [];
  class Window extends Emitter {
    options: Record<string, unknown>;
    webContents = new Contents();
    loaded: string | null = null;
    shown = 0;
    focused = 0;
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadFile(path: string) {
      this.loaded = path;
      return Promise.resolve();
    }
    loadURL(url: string) {
      this.loaded = url;
      return Promise.resolve();
    }
    isMinimized() {
      return false;
    }
    restore() {}
    show() {
      this.shown += 1;
    }
    focus() {
      this.focused += 1;
    }
  }
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    ready: false,
    requestSingleInstanceLock: () => true,
    enableSandbox: () => calls.push('enableSandbox'),
    isReady: () => app.ready,
    whenReady: () => new Promise<void>((resolve) => app.once('test:ready', () => ((app.ready = true), resolve()))),
    quit: () => {
      calls.push('quit');
      const event = { defaultPrevented: false, preventDefault: () => (event.defaultPrevented = true) };
      app.emit('before-quit', event);
      if (!event.defaultPrevented) calls.push('quit went through');
    },
    exit: (code: number) => calls.push(`exit ${code}`),
  });
  const session = {
    defaultSession: {
      headers: null as null | ((details: { responseHeaders: Record<string, string[]> }, callback: (r: unknown) => void) => void),
      permissions: null as null | ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl: string }) => void),
      webRequest: { onHeadersReceived: (handler: never) => (session.defaultSession.headers = handler) },
      setPermissionRequestHandler: (handler: never) => (session.defaultSession.permissions = handler),
    },
  };
  const opened: string[] = [];
  const shell = { openExternal: (url: string) => (opened.push(url), Promise.resolve()) };
  const dialog = { showErrorBox: (title: string, message: string) => calls.push(`error box: ${title}: ${message}`) };
  const ipcMain = { handle() {}, removeHandler() {}, on() {}, removeAllListeners() {} };
  return { app, Window, windows, session, shell, dialog, ipcMain, calls, opened };
});
vi.mock('electron', () => ({
  app: fake.app, BrowserWindow: fake.Window, session: fake.session, shell: fake.shell, dialog: fake.dialog, ipcMain: fake.ipcMain,
}));

const OUT_MAIN = fileURLToPath(new URL('.', import.meta.url)); // index.ts's own folder stands in for out/main
const INDEX_HTML = join(OUT_MAIN, '../renderer/index.html');

describe('the main process', async () => {
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  await import('./index.ts');
  // index.ts's signal handlers (signal-exit, loaded with the lab's dependencies, adds its own),
  // taken off this test process when done: they would hold its SIGTERM.
  const added = (signal: 'SIGINT' | 'SIGTERM') =>
    process.listeners(signal).filter((l) => !before[signal].includes(l) && l.toString().includes('stopping the lab'));
  const handlers = { SIGINT: added('SIGINT'), SIGTERM: added('SIGTERM') };
  afterAll(() => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) for (const l of handlers[signal]) process.removeListener(signal, l);
  });
  fake.app.emit('test:ready');
  await vi.waitFor(() => expect(fake.windows).toHaveLength(1));
  const [window] = fake.windows;
  const contents = window!.webContents;

  it('opens one sandboxed window on the built renderer', () => {
    expect(fake.calls).toContain('enableSandbox');
    expect(window!.options).toMatchObject({
      width: 1280, height: 800, minWidth: 1024, minHeight: 700, show: false,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, preload: join(OUT_MAIN, '../preload/index.cjs') },
    });
    expect(window!.options.webPreferences).not.toHaveProperty('webSecurity');
    expect(window!.options.webPreferences).not.toHaveProperty('webviewTag');
    expect(window!.loaded).toBe(INDEX_HTML);
    window!.emit('ready-to-show');
    expect(window!.shown).toBe(1);
  });

  it('puts the strict CSP on every response', () => {
    let answered: unknown;
    fake.session.defaultSession.headers!({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (answered = r));
    expect(answered).toEqual({
      responseHeaders: {
        'X-Other': ['1'],
        'Content-Security-Policy': ["default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"],
      },
    });
  });

  it('grants only what the app page needs', () => {
    const app = pathToFileURL(INDEX_HTML).href;
    const ask = (permission: string, url: string) => {
      let granted: boolean | undefined;
      fake.session.defaultSession.permissions!({}, permission, (g) => (granted = g), { requestingUrl: url });
      return granted;
    };
    expect(ask('clipboard-sanitized-write', app)).toBe(true);
    expect(ask('media', app)).toBe(false);
    expect(ask('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
  });

  it('keeps navigation on the app page and sends web links to the browser', () => {
    const navigate = (url: string) => {
      const event = { url, defaultPrevented: false, preventDefault: () => (event.defaultPrevented = true) };
      contents.emit('will-navigate', event);
      return event.defaultPrevented ? 'prevented' : 'allowed';
    };
    expect(navigate(`${pathToFileURL(INDEX_HTML).href}#/pods`)).toBe('allowed');
    expect(navigate('https://modelcontextprotocol.io/')).toBe('prevented');
    expect(navigate('file:///etc/passwd')).toBe('prevented');
    expect(contents.windowOpenHandler!({ url: 'https://github.com/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(fake.opened).toEqual(['https://modelcontextprotocol.io/', 'https://github.com/']);
    const webview = { defaultPrevented: false, preventDefault: () => (webview.defaultPrevented = true) };
    contents.emit('will-attach-webview', webview);
    expect(webview.defaultPrevented).toBe(true);
  });

  it('focuses its window when launched a second time', () => {
    fake.app.emit('second-instance');
    expect(window!.focused).toBe(1);
    expect(fake.windows).toHaveLength(1);
  });

  it('holds the quit until the lab is stopped, then quits', async () => {
    fake.calls.length = 0;
    fake.app.emit('window-all-closed');
    expect(fake.calls).toEqual(['quit']); // held: the lab is being stopped
    fake.app.quit(); // quitting again meanwhile changes nothing
    await vi.waitFor(() => expect(fake.calls).toEqual(['quit', 'quit', 'quit', 'quit went through']));
  });

  it('handles SIGINT and SIGTERM; a signal once stopping quits at once with 130', () => {
    expect(handlers.SIGINT).toHaveLength(1);
    expect(handlers.SIGTERM).toHaveLength(1);
    fake.calls.length = 0;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    handlers.SIGTERM[0]!('SIGTERM');
    stderr.mockRestore();
    expect(fake.calls).toEqual(['exit 130']);
  });
});
