import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { importedPackages, runtimePackage, shippedProxyFiles } from './runtime-package.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const fixtures: string[] = [];
afterEach(() => {
  for (const dir of fixtures.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway repository root: package.json, a tsconfig.build.json like the real one, and proxy-core files. */
function fixture(pkg: object, files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'pinlab-runtime-package-'));
  fixtures.push(root);
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ version: '1.2.3', ...pkg }));
  writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', allowImportingTsExtensions: true, noEmit: true },
    include: ['proxy-core'], exclude: ['**/*.test.ts', '**/test/**', '**/bench/**'],
  }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe('the image\'s package.json (runtime-package.ts)', () => {
  it('lists what proxy-core\'s shipped files import, at the ranges the root package.json gives', () => {
    const pkg = runtimePackage(ROOT);
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    for (const name of ['commander', 'ioredis', 'prom-client', 'undici']) expect(pkg.dependencies[name]).toBe(root.dependencies[name]);
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(root.dependencies[name], name).toBe(range);
    expect(pkg).toMatchObject({ name: 'pinlab-proxy', version: root.version, private: true, type: 'module' });
  });

  it('leaves out what only proxy-core\'s tests and benchmarks import', () => {
    const files = shippedProxyFiles(ROOT);
    expect(files.some((f) => f.endsWith(path.join('proxy-core', 'cli', 'main.ts')))).toBe(true);
    expect(files.filter((f) => /\.test\.ts$|[/\\](test|bench)[/\\]/.test(f))).toEqual([]);
    const dependencies = Object.keys(runtimePackage(ROOT).dependencies);
    for (const testOnly of ['vitest', 'redis-memory-server', '@modelcontextprotocol/sdk']) expect(dependencies).not.toContain(testOnly);
  });

  it('sees scoped subpaths, dynamic imports and re-exports, and leaves out built-ins and relative paths', () => {
    const root = fixture({}, {
      'proxy-core/a.ts': [
        "import { x } from '@scope/pkg/sub/path.js';",
        "import fs from 'fs';",
        "import { y } from 'node:http';",
        "import { z } from './b.ts';",
        "export * from 'plain/deep';",
        "const later = await import('lazy');",
      ].join('\n'),
      'proxy-core/b.ts': "export const z = 1;",
    });
    expect([...importedPackages(root, shippedProxyFiles(root)).keys()].sort()).toEqual(['@scope/pkg', 'lazy', 'plain']);
  });

  it('refuses, naming the file, when shipped code imports a package that is only a devDependency or not listed', () => {
    const root = fixture({ dependencies: { ioredis: '^6.0.0' }, devDependencies: { vitest: '^5.0.0' } }, {
      'proxy-core/store.ts': "import { Redis } from 'ioredis';\nimport { it } from 'vitest';",
      'proxy-core/extra.ts': "import thing from 'left-pad';",
      'proxy-core/store.test.ts': "import { nope } from 'not-shipped';",
    });
    expect(() => runtimePackage(root)).toThrow(/"vitest" is imported by proxy-core\/store\.ts, but package\.json lists it only under devDependencies/);
    expect(() => runtimePackage(root)).toThrow(/"left-pad" is imported by proxy-core\/extra\.ts, but package\.json does not list it/);
    expect(() => runtimePackage(root)).not.toThrow(/not-shipped/);
  });
});
