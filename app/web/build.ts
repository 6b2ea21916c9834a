import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootPath } from '../paths.ts';

/** What the built app is made from: a change to any of these makes out/ stale. */
const SOURCES = ['renderer', 'main', 'app', 'electron.vite.config.ts', 'package-lock.json'];
/** What electron-vite builds: the Electron main process and the UI (the preload goes with main). */
const BUILT = [rootPath('out', 'main', 'index.js'), rootPath('out', 'renderer', 'index.html')];

/** Why the app needs building, or null when out/ is newer than everything it is made from. */
export function buildReason(): string | null {
  if (!BUILT.every((file) => existsSync(file))) return 'the app is not built yet';
  const built = Math.min(...BUILT.map((file) => statSync(file).mtimeMs));
  const newer = SOURCES.find((part) => existsSync(rootPath(part)) && newestMtime(rootPath(part)) > built);
  return newer ? `${newer} changed since the last build` : null;
}

/**
 * Builds the app (electron-vite: main, preload and renderer into out/) when it is missing or
 * stale, so that the first `pinlab serve` or `npm start` after `npm install` has the real UI.
 * `onProgress` hears one line before and one after (the build takes about 2 s here).
 */
export async function ensureBuilt(onProgress: (line: string) => void): Promise<void> {
  const reason = buildReason();
  if (!reason) return;
  onProgress(`building the app (${reason})…`);
  const started = Date.now();
  // Loaded only when needed: electron-vite (and Vite under it) is a build tool, not a run-time dependency.
  const { build } = await import('electron-vite');
  await build({ root: rootPath(), logLevel: 'warn' });
  onProgress(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}
