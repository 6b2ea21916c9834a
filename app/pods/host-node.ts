import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface HostNode {
  /** A Node binary that runs the demo backend's TypeScript (type stripping: Node >= 22.18). */
  path: string;
  /** Environment it needs: Electron's binary acts as Node only when told to. */
  env: Record<string, string>;
  /** True when it is Electron acting as Node (it cannot be packed into an image as plain Node). */
  electron: boolean;
}

let found: HostNode | undefined;

/**
 * The Node that runs demo pods. Under plain Node, this very one. Inside Electron,
 * process.execPath is Electron: a `node` >= 22.18 on the PATH is preferred, else Electron
 * itself with ELECTRON_RUN_AS_NODE.
 */
export function hostNode(): HostNode {
  if (found) return found;
  if (!process.versions.electron) return (found = { path: process.execPath, env: {}, electron: false });
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (!existsSync(candidate)) continue;
    try {
      const [major = 0, minor = 0] = execFileSync(candidate, ['--version'], { encoding: 'utf8', timeout: 5000 }).trim().slice(1).split('.').map(Number);
      if (major > 22 || (major === 22 && minor >= 18)) return (found = { path: candidate, env: {}, electron: false });
    } catch {
      // not a working node: keep looking
    }
  }
  return (found = { path: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, electron: true });
}
