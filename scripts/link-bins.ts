// `prepare`: npm links the bins of dependencies into node_modules/.bin, never the root
// package's own. Linking them here makes `npx pinlab` and `npx pinlab-proxy` work from the
// repository root right after `npm install`, with nothing fetched or built.
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
for (const [name, target] of Object.entries(bin)) {
  const link = join(binDir, name);
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, join(root, target)), link);
  chmodSync(join(root, target), 0o755);
}
