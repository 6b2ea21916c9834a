import { CommanderError } from 'commander';
import { createLogger } from '../log.ts';
import { startProxy } from '../run.ts';
import { StoreRequiredError } from '../store/open.ts';
import { Service } from '../upstream/service.ts';
import { proxyCommand, toConfig } from './options.ts';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 bad flags or a required store missing. */
async function main(argv: string[]): Promise<void> {
  const command = proxyCommand().exitOverride();
  try {
    command.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    throw error;
  }
  const config = toConfig(command.opts());
  try {
    new Service(config.backends); // the same path on every backend, or a clear error now
  } catch (error) {
    process.stderr.write(`error: option '--backend <url>': ${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logFormat);
  let running;
  try {
    running = await startProxy(config, log);
  } catch (error) {
    log('error', (error as Error).message);
    process.exit(error instanceof StoreRequiredError ? 2 : 1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main(process.argv);
