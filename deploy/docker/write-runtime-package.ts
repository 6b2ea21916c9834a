// Run by the image's build stage (deploy/docker/Dockerfile) after `npm run build:proxy`, in the
// repository root it was given: replaces package.json with proxy-core's runtime dependencies, so
// that `npm prune --omit=dev` then keeps only the packages the proxy loads.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runtimePackage } from './runtime-package.ts';

const root = path.resolve(process.argv[2] ?? '.');
try {
  const pkg = runtimePackage(root);
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  process.stderr.write(`package.json: ${Object.keys(pkg.dependencies).join(', ')}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
