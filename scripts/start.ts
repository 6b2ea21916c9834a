// `npm start`: builds the app when it is stale, then opens the desktop app in Electron. npm
// installs Electron without its binary, which is fetched on first launch; where it is not here
// and cannot be fetched, this says so in one line and starts web mode in a browser instead.
// Arguments after `npm start --` go to web mode (`npm start -- --runtime process`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootPath } from '../app/paths.ts';
import { ensureBuilt } from '../app/web/build.ts';

const ELECTRON_PACKAGE = rootPath('node_modules', 'electron');
const FETCH_TIMEOUT_MS = 10 * 60_000;

/** Electron's binary when it is here: `PINLAB_ELECTRON`, else where the electron package keeps it. */
function electronBinary(): string | null {
  if (process.env.PINLAB_ELECTRON) return existsSync(process.env.PINLAB_ELECTRON) ? process.env.PINLAB_ELECTRON : null;
  const pathFile = join(ELECTRON_PACKAGE, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ELECTRON_PACKAGE, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

/** Runs the electron package's own installer once; answers the binary, or why there is none. */
function fetchElectron(): { binary: string } | { reason: string } {
  // One line whatever happens: the outcome ends the line this starts.
  process.stdout.write('pinlab: fetching Electron\'s binary (once)… ');
  const result = spawnSync(process.execPath, [join(ELECTRON_PACKAGE, 'install.js')], { encoding: 'utf8', timeout: FETCH_TIMEOUT_MS });
  const binary = electronBinary();
  if (result.status === 0 && binary) {
    process.stdout.write('done\n');
    return { binary };
  }
  const lines = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((line) => line.trim()).filter(Boolean);
  return { reason: result.error?.message ?? lines.at(-1) ?? `its installer exited with code ${result.status}` };
}

function run(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'inherit', cwd: rootPath() });
  // Ctrl-C reaches the child through the terminal; a plain kill of npm is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
  return child;
}

await ensureBuilt((line) => process.stdout.write(`pinlab: ${line}\n`));
const found = electronBinary();
const electron = found ? { binary: found } : fetchElectron();
if ('binary' in electron) {
  // Electron refuses to run as root without --no-sandbox (containers, CI): that is its rule, said here once.
  const sandbox = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  run(electron.binary, [rootPath(), ...sandbox]);
} else {
  process.stdout.write(`not possible here (${electron.reason}): starting web mode instead.\n`);
  run(process.execPath, [rootPath('app', 'cli', 'bin.js'), 'serve', '--open', ...process.argv.slice(2)]);
}
