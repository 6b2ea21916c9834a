import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** The package.json the pinlab-proxy image ships: proxy-core's runtime dependencies and nothing else. */
export interface RuntimePackage {
  name: 'pinlab-proxy';
  version: string;
  private: true;
  /** The compiled proxy is ES modules, as the sources are. */
  type: 'module';
  license?: string;
  engines?: Record<string, string>;
  /** Package name → the version range the root package.json asks for. */
  dependencies: Record<string, string>;
}

interface RootPackage {
  version: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const BUILTINS = new Set(builtinModules);

/** tsconfig.build.json as `npm run build:proxy` reads it: its files and compiler options. */
export function buildConfig(root: string): ts.ParsedCommandLine {
  const configPath = path.join(root, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`${configPath}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  });
  if (!parsed) throw new Error(`${configPath} could not be read`);
  return parsed;
}

/**
 * The proxy-core files `npm run build:proxy` compiles, read from tsconfig.build.json itself
 * (its include and exclude), so tests and benchmarks never count as shipped.
 */
export function shippedProxyFiles(root: string): string[] {
  const parsed = buildConfig(root);
  const proxyCore = path.join(root, 'proxy-core') + path.sep;
  return parsed.fileNames.map((file) => path.resolve(file)).filter((file) => file.startsWith(proxyCore)).sort();
}

/** npm package name → the files (relative to `root`) that import it; Node's built-ins left out. */
export function importedPackages(root: string, files: string[]): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const file of files) {
    // Static imports, dynamic import() and re-exports alike; `import type` counts too (harmless:
    // a package imported only for its types is still one the code was written against).
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      const name = packageName(specifier);
      if (!name) continue;
      const importers = packages.get(name) ?? [];
      importers.push(path.relative(root, file));
      packages.set(name, importers);
    }
  }
  return packages;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; null for relative paths and built-ins. */
function packageName(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('#')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  return BUILTINS.has(name) ? null : name;
}

/**
 * The image's package.json: what proxy-core's shipped files import, at the ranges the root
 * package.json gives. A shipped import the root lists only under devDependencies (or not at
 * all) throws, naming the file: the image would start without it.
 */
export function runtimePackage(root: string): RuntimePackage {
  const rootPackage = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as RootPackage;
  const dependencies: Record<string, string> = {};
  const problems: string[] = [];
  const imported = importedPackages(root, shippedProxyFiles(root));
  for (const name of [...imported.keys()].sort()) {
    const range = rootPackage.dependencies?.[name];
    if (range) {
      dependencies[name] = range;
      continue;
    }
    const where = rootPackage.devDependencies?.[name] ? 'lists it only under devDependencies' : 'does not list it';
    problems.push(`"${name}" is imported by ${imported.get(name)?.join(', ')}, but package.json ${where}: the image would not have it (add it to dependencies)`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    name: 'pinlab-proxy',
    version: rootPackage.version,
    private: true,
    type: 'module',
    ...(rootPackage.license ? { license: rootPackage.license } : {}),
    ...(rootPackage.engines ? { engines: rootPackage.engines } : {}),
    dependencies,
  };
}
