// Pinlab's Electron main process: one window on the renderer, the lab (LabService) running
// here, the lab's API over IPC for that window only, and the lab stopped — its containers
// removed — before the app exits.
import { app, BrowserWindow, dialog, session, shell, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabService } from '../app/api/lab-service.ts';
import { Lab } from '../app/lab.ts';
import { appPage, contentSecurityPolicy, navigationVerdict, permissionAllowed, windowOpenVerdict, type AppPage } from './guards.ts';
import { registerIpc } from './ipc.ts';
import { labDefaultsFromEnv } from './lab-env.ts';
import { closeLab, CommandGate } from './shutdown.ts';

// out/main/index.js → out/preload/index.cjs, out/renderer/index.html. The preload is CommonJS
// in a "type": "module" package, so electron-vite names it .cjs; .js is taken if a config emits that.
const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = ['index.cjs', 'index.js'].map((name) => join(here, '../preload', name)).find((path) => existsSync(path))
  ?? join(here, '../preload/index.cjs');
const INDEX_HTML = join(here, '../renderer/index.html');

const log = (message: string) => process.stderr.write(`pinlab: ${message}\n`);

const openExternal = (url: string) => {
  shell.openExternal(url).catch((error: Error) => log(`could not open ${url}: ${error.message}`));
};

if (!app.requestSingleInstanceLock()) {
  // Another Pinlab is running: it gets `second-instance` and shows its window.
  app.quit();
} else {
  start();
}

function start(): void {
  app.enableSandbox();

  // ELECTRON_RENDERER_URL is set by `electron-vite dev`; a packaged app never loads a page from elsewhere.
  const devUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
  let page: AppPage;
  let service: LabService;
  try {
    page = appPage({ indexHtml: INDEX_HTML, devUrl });
    // Lab flags from PINLAB_RUNTIME, PINLAB_PODS, …: defaults under what the UI sends with lab.start.
    service = new LabService(labDefaultsFromEnv(process.env));
  } catch (error) {
    const message = (error as Error).message;
    log(message);
    dialog.showErrorBox('Pinlab cannot start', message);
    app.exit(2);
    return;
  }
  const gate = new CommandGate();
  const ipc = registerIpc({ service, page, gate, log });
  let window: BrowserWindow | null = null;

  function createWindow(): BrowserWindow {
    const created = new BrowserWindow({
      width: 1280,
      height: 800,
      minWidth: 1024,
      minHeight: 700,
      title: 'Pinlab',
      show: false,
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        spellcheck: false,
      },
    });
    created.once('ready-to-show', () => created.show());
    created.webContents.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
      // -3 is a load given up for another (a refused navigation, a dev server reload): not a failure.
      if (!isMainFrame || code === -3) return;
      log(`the UI did not load (${url}: ${description}, ${code})`);
      created.show();
    });
    created.on('closed', () => {
      if (window === created) window = null;
    });
    const loaded = devUrl ? created.loadURL(devUrl) : created.loadFile(INDEX_HTML);
    loaded.catch((error: Error) => {
      const hint = devUrl ? `is the dev server at ${devUrl} up?` : 'build it first: npx electron-vite build';
      dialog.showErrorBox('Pinlab', `The UI could not be loaded (${error.message}); ${hint}`);
    });
    return created;
  }

  function showWindow(): void {
    if (!app.isReady()) return;
    if (!window) {
      window = createWindow();
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  }

  // A second launch focuses this one's window.
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);

  // Every webContents (the window, and anything it might try to open) stays on the app's page.
  app.on('web-contents-created', (_event, contents) => guard(contents, page));

  // Closing the window quits: the lab lives as long as its window, and quitting removes its pods.
  app.on('window-all-closed', () => app.quit());

  // Quitting: hold the quit, stop the lab and remove its containers, then quit again.
  let phase: 'running' | 'stopping' | 'stopped' = 'running';
  let exitCode = 0;
  app.on('before-quit', (event) => {
    if (phase === 'stopped') return;
    event.preventDefault();
    if (phase === 'stopping') return;
    phase = 'stopping';
    void closeLab({ gate, close: () => service.close(), stopAll: () => Lab.stopAll(), log }).finally(() => {
      phase = 'stopped';
      ipc.dispose();
      if (exitCode !== 0) app.exit(exitCode);
      else app.quit();
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (phase !== 'running') {
        log(`${signal} again: quitting now; pods may be left behind (the next lab started removes them)`);
        app.exit(130);
        return;
      }
      log(`${signal}: stopping the lab and removing its pods… (${signal} again to quit at once)`);
      exitCode = 130;
      app.quit();
    });
  }

  void app.whenReady().then(() => {
    const policy = contentSecurityPolicy({ dev: devUrl !== undefined });
    // A response header is how this CSP reaches pages from the dev server. Pages read from
    // file:// have no response headers for it to act on: the built renderer's index.html must
    // carry the same policy in a <meta http-equiv="Content-Security-Policy"> tag.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
    });
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => {
      callback(permissionAllowed(permission, details.requestingUrl, page));
    });
    window = createWindow();
  });
}

/** Navigation stays on the app's page; web links open in the system browser; no new windows, no webviews. */
function guard(contents: WebContents, page: AppPage): void {
  contents.on('will-navigate', (event) => {
    const verdict = navigationVerdict(event.url, page);
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'external') openExternal(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (windowOpenVerdict(url, page) === 'external') openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
