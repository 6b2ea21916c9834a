import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandArgs } from '../app/api/contract.ts';
import { replyFromRejection } from './bridge-reply.ts';
import {
  appPage, contentSecurityPolicy, isAppUrl, isCommand, isSubscriptionId, navigationVerdict, permissionAllowed,
  senderRefusal, unknownCommandMessage, windowOpenVerdict,
} from './guards.ts';
import { labDefaultsFromEnv, LabEnvError } from './lab-env.ts';

const INDEX = join('/opt', 'Pinlab app', 'out', 'renderer', 'index.html');
const INDEX_URL = pathToFileURL(INDEX).href;
const filePage = appPage({ indexHtml: INDEX, platform: 'linux' });
const devPage = appPage({ indexHtml: INDEX, devUrl: 'http://localhost:5173/' });

describe('the app page', () => {
  it('is the built index.html, or the dev server when electron-vite dev gives one', () => {
    expect(filePage).toEqual({ kind: 'file', path: INDEX, caseInsensitive: false });
    expect(devPage).toEqual({ kind: 'dev', origin: 'http://localhost:5173' });
    expect(appPage({ indexHtml: INDEX, platform: 'win32' })).toMatchObject({ caseInsensitive: true });
  });

  it('refuses a dev URL that is not http(s)', () => {
    expect(() => appPage({ indexHtml: INDEX, devUrl: 'file:///tmp/index.html' })).toThrow(/ELECTRON_RENDERER_URL must be an http\(s\) address/);
    expect(() => appPage({ indexHtml: INDEX, devUrl: 'not a url' })).toThrow();
  });

  it('matches the built page with any hash or query, and nothing else on disk', () => {
    expect(INDEX_URL).toContain('Pinlab%20app');
    expect(isAppUrl(INDEX_URL, filePage)).toBe(true);
    expect(isAppUrl(`${INDEX_URL}#/sessions`, filePage)).toBe(true);
    expect(isAppUrl(`${INDEX_URL}?tab=pods`, filePage)).toBe(true);
    expect(isAppUrl(pathToFileURL(join('/opt', 'Pinlab app', 'out', 'renderer', 'other.html')).href, filePage)).toBe(false);
    expect(isAppUrl(pathToFileURL('/tmp/index.html').href, filePage)).toBe(false);
    expect(isAppUrl(INDEX_URL.replace('/out/renderer/', '/out/x/../renderer/'), filePage)).toBe(true); // the URL parser normalizes dot segments
    expect(isAppUrl(INDEX_URL.replace('/renderer/', '/renderer%2F'), filePage)).toBe(false);
    expect(isAppUrl(INDEX_URL.replace('file:///', 'file://evil.example/'), filePage)).toBe(false);
    expect(isAppUrl(INDEX_URL.toUpperCase().replace('FILE:', 'file:'), filePage)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', filePage)).toBe(false);
    expect(isAppUrl('', filePage)).toBe(false);
    expect(isAppUrl(null, filePage)).toBe(false);
    expect(isAppUrl('::not a url', filePage)).toBe(false);
  });

  it('compares Windows paths without regard to case', () => {
    const page = { kind: 'file', path: 'C:\\Pinlab\\out\\renderer\\index.html', caseInsensitive: true } as const;
    // fileURLToPath gives POSIX paths on this platform: the comparison itself is what is tested.
    const posix = { ...page, path: '/C:/Pinlab/out/renderer/index.html'.toLowerCase() };
    expect(isAppUrl('file:///C:/Pinlab/out/renderer/index.html', posix)).toBe(true);
  });

  it('matches the dev server by origin only', () => {
    expect(isAppUrl('http://localhost:5173/', devPage)).toBe(true);
    expect(isAppUrl('http://localhost:5173/index.html#/pods', devPage)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', devPage)).toBe(false);
    expect(isAppUrl('https://localhost:5173/', devPage)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/', devPage)).toBe(false);
    expect(isAppUrl('http://localhost:5173.evil.example/', devPage)).toBe(false);
    expect(isAppUrl(INDEX_URL, devPage)).toBe(false);
  });
});

describe('the IPC sender check', () => {
  it('lets the app page, in the top frame, through', () => {
    expect(senderRefusal({ url: `${INDEX_URL}#/`, top: true }, filePage)).toBeNull();
    expect(senderRefusal({ url: 'http://localhost:5173/', top: true }, devPage)).toBeNull();
  });

  it('refuses other pages, frames inside the page, and frames that are gone', () => {
    expect(senderRefusal({ url: 'https://evil.example/', top: true }, filePage)).toMatch(/^refused: "https:\/\/evil.example\/" is not Pinlab's page/);
    expect(senderRefusal({ url: 'file:///tmp/evil.html', top: true }, filePage)).toMatch(/not Pinlab's page/);
    expect(senderRefusal({ url: 'http://localhost:5173/', top: true }, filePage)).toMatch(/not Pinlab's page/);
    expect(senderRefusal({ url: INDEX_URL, top: false }, filePage)).toMatch(/not a frame inside it/);
    expect(senderRefusal(null, filePage)).toBe('refused: the sending frame is gone');
    expect(senderRefusal({ url: '', top: true }, filePage)).toMatch(/a page with no URL/);
    expect(senderRefusal({ url: `https://evil.example/${'a'.repeat(300)}`, top: true }, filePage)!.length).toBeLessThan(200);
  });
});

describe('the command check', () => {
  it('knows every command of the contract', () => {
    for (const name of Object.keys(commandArgs)) expect(isCommand(name)).toBe(true);
  });

  it('refuses names that are not commands, including inherited properties', () => {
    for (const name of ['lab.launch', '', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 42, null, undefined, {}, ['lab.start']]) {
      expect(isCommand(name)).toBe(false);
    }
  });

  it('says what the commands are', () => {
    expect(unknownCommandMessage('lab.launch')).toMatch(/^unknown command "lab.launch" \(commands: lab.start, lab.stop, /);
    expect(unknownCommandMessage(7)).toMatch(/^unknown command of type number/);
    expect(unknownCommandMessage(null)).toMatch(/^unknown command of type null/);
    expect(unknownCommandMessage('x'.repeat(1000)).length).toBeLessThan(600);
  });

  it('takes subscription ids as the preload makes them', () => {
    expect(isSubscriptionId('0123456789abcdef0123456789abcdef')).toBe(true);
    expect(isSubscriptionId('9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d')).toBe(true);
    for (const id of ['', 'a'.repeat(65), 'a b', '../x', 1, null, {}]) expect(isSubscriptionId(id)).toBe(false);
  });
});

describe('navigation and new windows', () => {
  it('stays on the app page, sends web links to the browser, refuses the rest', () => {
    expect(navigationVerdict(`${INDEX_URL}#/pods`, filePage)).toBe('allow');
    expect(navigationVerdict('https://modelcontextprotocol.io/', filePage)).toBe('external');
    expect(navigationVerdict('http://127.0.0.1:7400/mcp', filePage)).toBe('external');
    expect(navigationVerdict('file:///etc/passwd', filePage)).toBe('deny');
    expect(navigationVerdict('javascript:alert(1)', filePage)).toBe('deny');
    expect(navigationVerdict('data:text/html,<script>1</script>', filePage)).toBe('deny');
    expect(navigationVerdict('vscode://file/x', filePage)).toBe('deny');
    expect(navigationVerdict('http://localhost:5173/', devPage)).toBe('allow');
  });

  it('never opens a window: web links go to the browser', () => {
    expect(windowOpenVerdict('https://github.com/', filePage)).toBe('external');
    expect(windowOpenVerdict(INDEX_URL, filePage)).toBe('deny');
    expect(windowOpenVerdict('http://localhost:5173/', devPage)).toBe('deny');
    expect(windowOpenVerdict('file:///tmp/x.html', filePage)).toBe('deny');
    expect(windowOpenVerdict('about:blank', filePage)).toBe('deny');
  });
});

describe('content security policy and permissions', () => {
  it('is strict for the built app', () => {
    expect(contentSecurityPolicy({ dev: false })).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
    );
  });

  it('lets the dev server run the inline React Refresh preamble, and only in development', () => {
    expect(contentSecurityPolicy({ dev: true })).toContain("script-src 'self' 'unsafe-inline';");
    expect(contentSecurityPolicy({ dev: false })).not.toContain("'unsafe-inline'; style-src");
  });

  it('grants clipboard writes and fullscreen to the app page, nothing else to anyone', () => {
    expect(permissionAllowed('clipboard-sanitized-write', INDEX_URL, filePage)).toBe(true);
    expect(permissionAllowed('fullscreen', INDEX_URL, filePage)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/', filePage)).toBe(false);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      expect(permissionAllowed(permission, INDEX_URL, filePage)).toBe(false);
    }
    expect(permissionAllowed('fullscreen', undefined, filePage)).toBe(false);
  });
});

describe("the preload's replies", () => {
  it('turns a failed ipcRenderer.invoke into {error} with Electron\'s wrapper taken off', () => {
    expect(replyFromRejection(new Error("Error invoking remote method 'pinlab:invoke': Error: No handler registered for 'pinlab:invoke'")))
      .toEqual({ error: { message: "No handler registered for 'pinlab:invoke'" } });
    expect(replyFromRejection(new Error("Error invoking remote method 'pinlab:invoke': TypeError: x is not a function")))
      .toEqual({ error: { message: 'x is not a function' } });
    expect(replyFromRejection(new Error('An object could not be cloned.'))).toEqual({ error: { message: 'An object could not be cloned.' } });
    expect(replyFromRejection('boom')).toEqual({ error: { message: 'boom' } });
    expect(replyFromRejection(new Error(''))).toEqual({ error: { message: 'the lab did not answer' } });
  });
});

describe('lab flags from the environment', () => {
  it('reads the PINLAB_ variables that are set, and nothing else', () => {
    expect(labDefaultsFromEnv({})).toEqual({});
    expect(labDefaultsFromEnv({ PINLAB_RUNTIME: 'process', PINLAB_PODS: '5', PINLAB_REPLICAS: ' 3 ', PINLAB_RECOVERY: 'off', PINLAB_STORE: '', HOME: '/root' }))
      .toEqual({ runtime: 'process', pods: 5, replicas: 3, recovery: false });
    expect(labDefaultsFromEnv({ PINLAB_AFFINITY: 'cookie', PINLAB_PINNING: 'service', PINLAB_INGRESS_PORT: '0', PINLAB_REDIS_URL: 'redis://127.0.0.1:6379', PINLAB_RECOVERY: 'ON' }))
      .toEqual({ affinity: 'cookie', pinning: 'service', ingressPort: 0, redisUrl: 'redis://127.0.0.1:6379', recovery: true });
  });

  it('names each bad variable and what it allows', () => {
    expect(() => labDefaultsFromEnv({ PINLAB_RUNTIME: 'kubernetes' })).toThrow(LabEnvError);
    expect(() => labDefaultsFromEnv({ PINLAB_RUNTIME: 'kubernetes' })).toThrow(/PINLAB_RUNTIME: .*"docker"/);
    expect(() => labDefaultsFromEnv({ PINLAB_PODS: 'many' })).toThrow(/PINLAB_PODS: expected a whole number, got "many"/);
    expect(() => labDefaultsFromEnv({ PINLAB_PODS: '99' })).toThrow(/PINLAB_PODS: /);
    expect(() => labDefaultsFromEnv({ PINLAB_RECOVERY: 'maybe' })).toThrow(/PINLAB_RECOVERY: expected on or off/);
    expect(() => labDefaultsFromEnv({ PINLAB_REDIS_URL: 'http://x' })).toThrow(/PINLAB_REDIS_URL: must be a redis:\/\//);
    expect(() => labDefaultsFromEnv({ PINLAB_PODS: 'x', PINLAB_STORE: 'disk' })).toThrow(/PINLAB_PODS: .*; PINLAB_STORE: /);
  });
});
