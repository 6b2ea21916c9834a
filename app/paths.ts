import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above this module whose package.json is Pinlab's.
 * Found, not assumed: bundled into out/main (Electron) this module is no longer at app/.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pinlab') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find Pinlab's package.json above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the repository. */
export function rootPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
