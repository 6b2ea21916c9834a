import { CommanderError, type Command } from 'commander';
import { messageOf } from '../../proxy-core/errors.ts';
import { Lab } from '../lab.ts';

/**
 * Runs a lab command line: SIGINT/SIGTERM close `onStop` (servers, client programs), then
 * every running lab, and exit 130; a commander error exits 0 or 2; any other failure prints
 * one line under `name`, stops the labs, and exits 1.
 */
export async function runProgram(program: Command, name: string, onStop: readonly (() => Promise<unknown>)[] = []): Promise<void> {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping the lab and removing its pods…\n`);
      void Promise.allSettled(onStop.map((stop) => stop()))
        .then(() => Lab.stopAll())
        .finally(() => process.exit(130));
    });
  }
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    process.stderr.write(`${name}: ${messageOf(error)}\n`);
    await Lab.stopAll();
    process.exit(1);
  }
}
