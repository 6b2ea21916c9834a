import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The import rules' verdict on one planted line in a file at `path`. */
async function verdict(path: string, line: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${line}\nexport const used = planted;\n`, { filePath: `${ROOT}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the architecture DESIGN.md draws, enforced by lint', () => {
  it.each([
    ['proxy-core/planted.ts', "import { Lab as planted } from '../app/lab.ts';", /imports nothing of the lab/],
    ['proxy-core/http/planted.ts', "import { app as planted } from 'electron';", /Only main\/ may use Electron/],
    ['app/planted.ts', "import { app as planted } from 'electron';", /Only main\/ may use Electron/],
    ['app/api/planted.ts', "import { registerIpc as planted } from '../../main/ipc.ts';", /nothing imports it/],
    ['app/planted.ts', "import { App as planted } from '../renderer/src/App.tsx';", /Node code never imports it/],
    ['main/planted.ts', "import { App as planted } from '../renderer/src/App.tsx';", /Node code never imports it/],
    ['renderer/src/planted.ts', "import { Lab as planted } from '../../app/lab.ts';", /only the contract, events, snapshot/],
    ['renderer/src/panels/planted.ts', "import { readFileSync as planted } from 'node:fs';", /no Node modules/],
    ['renderer/src/planted.ts', "import { Proxy as planted } from '../../proxy-core/proxy.ts';", /only through app\/events/],
  ])('refuses, in %s: %s', async (path, line, message) => {
    expect(await verdict(path, line)).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['renderer/src/planted.ts', "import type { LabStatus as planted } from '../../app/api/contract.ts';"],
    ['renderer/src/planted.ts', "import { reduce as planted } from '../../app/state/reducer.ts';"],
    ['main/planted.ts', "import { Lab as planted } from '../app/lab.ts';"],
    ['app/planted.ts', "import { Proxy as planted } from '../proxy-core/proxy.ts';"],
  ])('allows, in %s: %s', async (path, line) => {
    expect(await verdict(path, line)).toEqual([]);
  });
});
