import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { allowedNumbers, boundsOf, labConfigSchema, runtimeSchema, trafficSchema, type NumberField, type RuntimeChoice } from '../config.ts';
import { runProgram } from '../cli/run-program.ts';
import { formatSoak } from './format.ts';
import { runSoak, SOAK_DEFAULTS } from './soak.ts';

/** `npm run soak -- --minutes N`: the soak of app/soak/soak.ts from the command line. */

/** A number within a schema field's bounds, else a message naming them. */
function within(field: NumberField) {
  const { min, max, whole } = boundsOf(field);
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${allowedNumbers(field)}, got "${value}"`);
    }
    return n;
  };
}

/** From 6 seconds to a day. */
const minutesSchema = z.number().min(0.1).max(1440);

interface SoakFlags {
  minutes: number;
  clients: number;
  rate: number;
  replicas: number;
  pods: number;
  runtime: RuntimeChoice;
  json?: boolean;
}

const program = new Command('soak')
  .description('Soak the lab: SDK clients through the ingress while pods are killed (every 2 s) and paused (5 s every 7 s), replicas restarted (every 5 s) and Redis restarted (every 60 s). Exits 1 when a recoverable error reached a client or anything was left running.')
  .exitOverride()
  .addOption(new Option('--minutes <n>', 'how long the clients run under chaos').argParser(within(minutesSchema)).default(SOAK_DEFAULTS.minutes))
  .addOption(new Option('--clients <k>', 'simulated MCP SDK clients').argParser(within(trafficSchema.shape.clients)).default(SOAK_DEFAULTS.clients))
  .addOption(new Option('--rate <r>', 'tool calls per second, per client').argParser(within(trafficSchema.shape.rate)).default(SOAK_DEFAULTS.rate))
  .addOption(new Option('--replicas <n>', 'proxy replicas').argParser(within(labConfigSchema.shape.replicas)).default(SOAK_DEFAULTS.replicas))
  .addOption(new Option('--pods <m>', 'backend pods the controller keeps').argParser(within(labConfigSchema.shape.pods)).default(SOAK_DEFAULTS.pods))
  .addOption(new Option('--runtime <kind>', 'where pods run (auto: Docker when it answers, else processes)').choices(runtimeSchema.options).default('auto'))
  .option('--json', 'print one JSON object instead of the table')
  .action(async (flags: SoakFlags) => {
    const result = await runSoak({
      ...flags,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : formatSoak(result));
    process.exitCode = result.problems.length ? 1 : 0;
  });

await runProgram(program, 'soak');
