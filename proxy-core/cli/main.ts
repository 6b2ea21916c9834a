import { CommanderError } from 'commander';
import { createLogger } from '../log.ts';
import { startProxy } from '../run.ts';
import { StoreRequiredError } from '../store/open.ts';
import { runPrimary, workerReady, workerRole, workersProblem } from '../workers.ts';
import { backendProblem, proxyCommand, toConfig } from './options.ts';

/**
 * Exit codes: 0 clean stop (SIGTERM: drained in time), 1 runtime failure or a drain cut short
 * (past --shutdown-timeout, or by SIGINT), 2 bad flags or a required store missing. With
 * --workers, the primary exits so for all its workers (workers.ts).
 */
async function main(argv: string[]): Promise<void> {
  const command = proxyCommand().exitOverride();
  try {
    command.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    throw error;
  }
  const config = toConfig(command.opts());
  const workers = command.opts().workers as number;
  const problem = backendProblem(config) ?? workersProblem(config, workers);
  if (problem) {
    process.stderr.write(`error: ${problem}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logFormat);
  const role = workerRole();
  if (workers > 1 && !role) return runPrimary(config, workers, log);
  let running;
  try {
    // Workers each falling back to a memory store of their own would not share sessions.
    running = await startProxy(role ? { ...config, port: role.port, storeRequired: true } : config, log, undefined, role);
  } catch (error) {
    log('error', (error as Error).message);
    process.exit(error instanceof StoreRequiredError ? 2 : 1);
  }
  if (role) workerReady(running);
  let stopping: 'drain' | 'close' | null = null;
  // SIGTERM (Kubernetes, docker stop) drains; SIGINT (Ctrl-C) stops at once, and cuts a drain short.
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = 'drain';
    log('info', 'SIGTERM: stopping gracefully');
    running.shutdown().then((outcome) => process.exit(outcome.kind === 'drained' ? 0 : 1), () => process.exit(1));
  });
  process.on('SIGINT', () => {
    if (stopping === 'close') return;
    const draining = stopping === 'drain';
    stopping = 'close';
    log('info', draining ? 'SIGINT: cutting the drain short' : 'SIGINT: stopping');
    running.close().then(() => process.exit(draining ? 1 : 0), () => process.exit(1));
  });
}

await main(process.argv);
