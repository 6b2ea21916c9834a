import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandArgs, type Command } from '../app/api/contract.ts';

/**
 * The one page the app shows, and so the only page that may talk to the lab: the built
 * renderer on disk, or (under `electron-vite dev`) the renderer's dev server.
 */
export type AppPage =
  | { kind: 'file'; path: string; caseInsensitive: boolean }
  | { kind: 'dev'; origin: string };

/** `devUrl` (ELECTRON_RENDERER_URL) wins when given; it must be an http(s) address. */
export function appPage(options: { indexHtml: string; devUrl?: string; platform?: NodeJS.Platform }): AppPage {
  if (options.devUrl) {
    const url = new URL(options.devUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`ELECTRON_RENDERER_URL must be an http(s) address of the renderer's dev server, got "${options.devUrl}"`);
    }
    return { kind: 'dev', origin: url.origin };
  }
  // Windows paths differ in case between what Node and Chromium print (the drive letter).
  const platform = options.platform ?? process.platform;
  return { kind: 'file', path: resolve(options.indexHtml), caseInsensitive: platform === 'win32' };
}

/** Whether `url` is the app's own page (any hash or query): the built index.html, or the dev server's origin. */
export function isAppUrl(url: string | null | undefined, page: AppPage): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (page.kind === 'dev') return parsed.origin === page.origin;
  if (parsed.protocol !== 'file:') return false;
  let path: string;
  try {
    // Decodes %XX the way the page's own URL was built; refuses encoded slashes and foreign hosts.
    path = fileURLToPath(parsed);
  } catch {
    return false;
  }
  return page.caseInsensitive ? path.toLowerCase() === page.path.toLowerCase() : path === page.path;
}

/** What an IPC event says of its sender: the frame's URL, and whether it is the top frame. Null when the frame is gone. */
export interface SenderFrame {
  url: string;
  top: boolean;
}

/** Why a message from `frame` is refused, or null when it comes from the app's own page. */
export function senderRefusal(frame: SenderFrame | null | undefined, page: AppPage): string | null {
  if (!frame) return 'refused: the sending frame is gone';
  if (!frame.top) return `refused: only the app's window may use the lab, not a frame inside it (${describeUrl(frame.url)})`;
  if (!isAppUrl(frame.url, page)) return `refused: ${describeUrl(frame.url)} is not Pinlab's page`;
  return null;
}

/** A known command name of the contract (own keys only: "toString" or "__proto__" are not commands). */
export function isCommand(name: unknown): name is Command {
  return typeof name === 'string' && Object.hasOwn(commandArgs, name);
}

export function unknownCommandMessage(name: unknown): string {
  const shown = typeof name === 'string' ? `"${name.slice(0, 80)}"` : `of type ${name === null ? 'null' : typeof name}`;
  return `unknown command ${shown} (commands: ${Object.keys(commandArgs).join(', ')})`;
}

/** Subscription ids are chosen by the preload (random UUIDs); anything else is refused. */
export function isSubscriptionId(id: unknown): id is string {
  return typeof id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(id);
}

/**
 * What to do with a navigation of the window: stay on the app's page, hand web links to
 * the system browser, refuse everything else (file:, data:, javascript:, custom schemes).
 */
export function navigationVerdict(url: string, page: AppPage): 'allow' | 'external' | 'deny' {
  if (isAppUrl(url, page)) return 'allow';
  return isWebLink(url) ? 'external' : 'deny';
}

/** New windows are never opened: web links go to the system browser, the rest nowhere. */
export function windowOpenVerdict(url: string, page: AppPage): 'external' | 'deny' {
  return !isAppUrl(url, page) && isWebLink(url) ? 'external' : 'deny';
}

function isWebLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The renderer's Content-Security-Policy. In development, @vitejs/plugin-react injects an
 * inline React Refresh preamble into the dev server's page, so scripts may be inline there
 * (and only there); the built app gets the strict policy.
 */
export function contentSecurityPolicy(options: { dev: boolean }): string {
  return [
    "default-src 'self'",
    options.dev ? "script-src 'self' 'unsafe-inline'" : "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
  ].join('; ');
}

/** Permissions a page may be granted: writing to the clipboard (copy the ingress URL) and fullscreen; nothing else. */
export function permissionAllowed(permission: string, requestingUrl: string | undefined, page: AppPage): boolean {
  return (permission === 'clipboard-sanitized-write' || permission === 'fullscreen') && isAppUrl(requestingUrl, page);
}

function describeUrl(url: string): string {
  return url ? `"${url.length > 120 ? `${url.slice(0, 120)}…` : url}"` : 'a page with no URL';
}
