import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as shellWords } from 'shell-quote';
import type { z } from 'zod';
import { onOffArgument, onOffWord } from '../../proxy-core/cli/on-off.ts';
import {
  affinitySchema, allowedNumbers, boundsOf, cartStoreSchema, clientsEraSchema, envNameSchema, LAB_DEFAULTS, labConfigSchema, LabConfigError, listenPortSchema,
  mcpPathSchema, modernShareSchema, parseLabConfig, pinningSchema, portSchema, redisUrlSchema, runtimeSchema, SERVER_DEFAULTS, storeSchema, TRAFFIC_DEFAULTS,
  trafficSchema, type CartStoreKind, type ClientsEra, type LabConfig, type LabConfigInput, type NumberField,
} from '../config.ts';
import { runProgram } from './run-program.ts';
import { runScenario, type ScenarioResult } from '../scenarios/run.ts';
import { SCENARIOS } from '../scenarios/scenarios.ts';
import { LabService } from '../api/lab-service.ts';
import { buildReport, writeReport } from '../report/report.ts';
import { ensureBuilt } from '../web/build.ts';
import { openInBrowser } from '../web/open.ts';
import { startWebServer, type WebServer } from '../web/server.ts';
import { describeRow, runMatrix } from '../scenarios/matrix.ts';
import { brokenCombosOf } from '../shared/broken-combos.ts';
import { formatBrokenCombos, formatMatrix, formatVerdict } from './format.ts';
import { formatClientCheck } from '../client-check/format.ts';
import { ClientProgram, withUrl } from '../client-check/program.ts';
import { runClientCheck } from '../client-check/run.ts';
import { CLIENT_FAULT_NAMES, type ClientFault } from '../shared/client-faults.ts';

/** A whole number within a field's bounds in the lab's schema. */
function count(field: NumberField) {
  const { min, max } = boundsOf(field);
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected ${allowedNumbers(field)}, got "${value}"`);
    return n;
  };
}

/** A number within a field's bounds in the lab's schema, fractions allowed. */
function share(field: NumberField) {
  const { min, max } = boundsOf(field);
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected ${allowedNumbers(field)}, got "${value}"`);
    return n;
  };
}

/** A string the lab's schema for it accepts; else the schema's message, with what was given. */
function matching(schema: z.ZodString) {
  return (value: string): string => {
    const checked = schema.safeParse(value);
    if (!checked.success) throw new InvalidArgumentError(`${checked.error.issues[0]?.message ?? 'invalid'}, got "${value}"`);
    return value;
  };
}

/** `K=V`, repeatable: the pairs gathered so far, with this one. */
function envPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  const key = eq > 0 ? value.slice(0, eq) : '';
  if (!envNameSchema.safeParse(key).success) throw new InvalidArgumentError(`expected NAME=VALUE with NAME an environment variable name, got "${value}"`);
  return { ...previous, [key]: value.slice(eq + 1) };
}

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}): ${value}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`expected a JSON object such as '{"a":1}', got ${value}`);
  return parsed as Record<string, unknown>;
}

/**
 * A command line split as a POSIX shell would split it (quotes, escapes), but run with no
 * shell: `$VARS` and `{port}` stay as written, and pipes or redirections are refused.
 */
function commandLine(value: string): string[] {
  const open = unclosedQuote(value);
  if (open) throw new InvalidArgumentError(`a ${open} quote is never closed`);
  const words: string[] = [];
  for (const entry of shellWords(value, (name) => `$${name}`)) {
    if (typeof entry === 'string') words.push(entry);
    else if ('comment' in entry) break;
    else if (entry.op === 'glob') words.push(entry.pattern);
    else throw new InvalidArgumentError(`"${entry.op}" is shell syntax, and the command runs without a shell: wrap it as sh -c '…'`);
  }
  if (words.length === 0) throw new InvalidArgumentError('expected a command line, such as "node server.js"');
  return words;
}

/** The quote left open at the end of `line`, if any: shell-quote would close it silently. */
function unclosedQuote(line: string): string | null {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
    } else if (c === '\\') {
      i++; // escapes the next character, in double quotes or none
    } else if (quote === '"') {
      if (c === '"') quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    }
  }
  return quote;
}

interface LabFlags extends Pick<LabConfig, 'replicas' | 'pods' | 'runtime' | 'store' | 'pinning' | 'recovery' | 'affinity'> {
  clients: number;
  json?: boolean;
  serverImage?: string;
  serverCommand?: string[];
  serverPort?: number;
  serverPortEnv?: string;
  serverPath?: string;
  serverEnv?: Record<string, string>;
  call?: string;
  callArgs?: Record<string, unknown>;
  redisUrl?: string;
  clientsEra?: ClientsEra;
  modernShare?: number;
  demoCarts?: CartStoreKind;
}

/** The client command of `client-check`: a command line holding `{url}`. */
function clientCommand(value: string): string[] {
  const words = commandLine(value);
  try {
    withUrl(words, '');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return words;
}

/** Comma-separated client faults, each one the check knows. */
function faultList(value: string): ClientFault[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.find((name) => !(CLIENT_FAULT_NAMES as string[]).includes(name));
  if (unknown !== undefined || names.length === 0) throw new InvalidArgumentError(`expected faults among ${CLIENT_FAULT_NAMES.join(', ')}, got "${unknown ?? value}"`);
  return names as ClientFault[];
}

/** Whole seconds from 1 to 120. */
function recoverSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 120) throw new InvalidArgumentError(`expected a whole number of seconds from 1 to 120, got "${value}"`);
  return n;
}

/** The lab flags shared by `scenario`, `matrix`, `report`, `serve` and `client-check` (which runs no simulated clients). */
function labOptions(command: Command, modeFlags = true, simulatedClients = true): Command {
  command
    .addOption(new Option('--replicas <n>', 'proxy replicas').argParser(count(labConfigSchema.shape.replicas)).default(LAB_DEFAULTS.replicas))
    .addOption(new Option('--pods <m>', 'backend pods').argParser(count(labConfigSchema.shape.pods)).default(LAB_DEFAULTS.pods))
    .addOption(new Option('--runtime <kind>', 'where pods run').choices(runtimeSchema.options).default(LAB_DEFAULTS.runtime))
    .addOption(new Option('--affinity <policy>', 'how the ingress spreads requests').choices(affinitySchema.options).default(LAB_DEFAULTS.affinity))
    .option('--json', 'print one JSON object instead of a readable verdict');
  if (simulatedClients) {
    command.addOption(new Option('--clients <k>', 'simulated MCP clients').argParser(count(trafficSchema.shape.clients)).default(TRAFFIC_DEFAULTS.clients));
    command
      .addOption(new Option('--clients-era <era>', 'the simulated clients\' MCP era: legacy (initialize, sessions), modern (2026-07-28: sessionless), or a mix').choices(clientsEraSchema.options).default(LAB_DEFAULTS.clientsEra))
      .addOption(new Option('--modern-share <share>', 'with --clients-era mix: the share of modern clients, from 0 to 1').argParser(share(modernShareSchema)));
  }
  if (modeFlags) {
    command
      .addOption(new Option('--store <kind>', 'session store').choices(storeSchema.options).default(LAB_DEFAULTS.store))
      .addOption(new Option('--pinning <kind>', 'what a session record pins').choices(pinningSchema.options).default(LAB_DEFAULTS.pinning))
      .addOption(new Option('--recovery <on|off>', 'transparent re-initialization').argParser(onOffArgument).default(LAB_DEFAULTS.recovery, onOffWord(LAB_DEFAULTS.recovery)));
  }
  // Your own server instead of the demo backend.
  command
    .addOption(new Option('--server-image <image>', 'your MCP server as a Docker image (docker runtime), listening on --server-port').conflicts('serverCommand'))
    .addOption(new Option('--server-port <port>', 'the port your image\'s server listens on inside its container (needed with --server-image)').argParser(count(portSchema)))
    .addOption(new Option('--server-command <command>', 'your MCP server as a command line, run from here (no shell): each pod gets a free port in $PORT (see --server-port-env) and wherever an argument holds {port}').argParser(commandLine))
    .addOption(new Option('--server-port-env <name>', 'the variable --server-command reads its port from').argParser(matching(envNameSchema)).default(SERVER_DEFAULTS.portEnv))
    .addOption(new Option('--server-path <path>', 'your server\'s MCP endpoint').argParser(matching(mcpPathSchema)).default(SERVER_DEFAULTS.path))
    .addOption(new Option('--server-env <K=V>', 'an environment variable for your server (repeatable)').argParser(envPair))
    .addOption(new Option('--demo-carts <store>', 'where the demo backend keeps its carts: each pod\'s memory (handles leak between pods) or the lab\'s Redis (needs the process runtime)').choices(cartStoreSchema.options))
    .addOption(new Option('--call <tool>', 'the tool each simulated client calls (default: counter on the demo, ping and tools/list on your server)'))
    .addOption(new Option('--call-args <json>', 'the --call tool\'s arguments, a JSON object').argParser(jsonObject))
    .addOption(new Option('--redis-url <url>', 'an external Redis for the session store instead of the embedded one').argParser(matching(redisUrlSchema)));
  return command;
}

/** Flag combinations each flag alone cannot check; the first problem, naming its flag. */
function flagProblem(command: Command, flags: LabFlags): string | null {
  const given = (name: string) => command.getOptionValueSource(name) === 'cli';
  if (flags.serverImage && flags.serverPort === undefined) return "option '--server-port <port>' is required with --server-image (the port its server listens on in the container)";
  if (flags.serverCommand && flags.serverPort !== undefined) return "option '--server-port <port>' is for --server-image: a --server-command pod gets its port in $PORT (see --server-port-env) or {port}";
  if (!flags.serverImage && flags.serverPort !== undefined) return "option '--server-port <port>' needs --server-image";
  if (!flags.serverCommand && given('serverPortEnv')) return "option '--server-port-env <name>' needs --server-command";
  if (!flags.serverImage && !flags.serverCommand) {
    if (given('serverPath')) return "option '--server-path <path>' needs --server-image or --server-command";
    if (flags.serverEnv) return "option '--server-env <K=V>' needs --server-image or --server-command";
  }
  if (flags.callArgs && !flags.call) return "option '--call-args <json>' needs --call <tool>";
  if (flags.demoCarts && (flags.serverImage || flags.serverCommand)) return "option '--demo-carts <store>' is for the demo backend, not with --server-image or --server-command";
  if (flags.modernShare !== undefined && flags.clientsEra !== 'mix') return "option '--modern-share <share>' needs --clients-era mix";
  return null;
}

/** The lab config the flags describe; a bad combination ends the run with exit 2. */
function labConfig(flags: LabFlags): LabConfigInput {
  const config: LabConfigInput = {
    replicas: flags.replicas, pods: flags.pods, runtime: flags.runtime, store: flags.store, pinning: flags.pinning,
    recovery: flags.recovery, affinity: flags.affinity, ingressPort: 0,
  };
  const [command, ...args] = flags.serverCommand ?? [];
  if (flags.serverImage) {
    config.backend = { kind: 'image', image: flags.serverImage, port: flags.serverPort ?? 0, path: flags.serverPath, env: flags.serverEnv };
  } else if (command) {
    // Relative paths in the command mean what they meant where pinlab was run.
    config.backend = { kind: 'command', command, args, portEnv: flags.serverPortEnv, path: flags.serverPath, env: flags.serverEnv, cwd: process.cwd() };
  }
  if (flags.demoCarts) config.backend = { kind: 'demo', carts: flags.demoCarts };
  if (flags.clientsEra) config.clientsEra = flags.clientsEra;
  if (flags.modernShare !== undefined) config.modernShare = flags.modernShare;
  if (flags.call) config.call = { tool: flags.call, args: flags.callArgs ?? {} };
  if (flags.redisUrl) config.redisUrl = flags.redisUrl;
  return config;
}

/** What `--json` prints for a scenario: the fields, nothing more. */
function resultJson(result: ScenarioResult) {
  return {
    scenario: result.scenario,
    config: { ...result.config, runtime: result.runtime },
    requests: result.requests,
    clientErrors: result.clientErrors,
    recoverableErrors: result.recoverableErrors,
    unknownOutcome: result.unknownOutcome,
    recoveries: result.recoveries,
    stateLosses: result.stateLosses,
    slowCalls: result.slowCalls,
    longestWaitMs: result.longestWaitMs,
    latencyMs: result.latencyMs,
    modern: result.modern,
    handleLeaks: result.handleLeaks,
    pileUp: result.pileUp,
    brokenCombos: brokenCombosOf(result.config),
  };
}

const program = new Command('pinlab')
  .description('Pinlab: a lab for horizontally scaled MCP servers — proxy replicas, a session store and pods on this machine.')
  .exitOverride()
  .hook('preAction', (_program, command) => {
    const flags = command.opts<LabFlags>();
    if (!('replicas' in flags)) return; // not a lab command
    const problem = flagProblem(command, flags);
    if (problem) program.error(`error: ${problem}`, { exitCode: 2 });
    try {
      parseLabConfig(labConfig(flags));
    } catch (error) {
      if (error instanceof LabConfigError) program.error(`error: ${error.message}`, { exitCode: 2 });
      throw error;
    }
  });

program.command('scenarios').description('list the scenarios').action(() => {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.description}\n`);
});

labOptions(program.command('scenario').argument('<name>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`))
  .description('start a lab, run traffic and one scenario\'s chaos, and print its verdict')
  .action(async (name: string, flags: LabFlags) => {
    if (!SCENARIOS.some((s) => s.name === name)) program.error(`error: no scenario named "${name}" (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`, { exitCode: 2 });
    process.stderr.write(formatBrokenCombos(parseLabConfig(labConfig(flags))));
    const result = await runScenario(name, labConfig(flags), { clients: flags.clients });
    process.stdout.write(flags.json ? JSON.stringify(resultJson(result)) + '\n' : formatVerdict(result));
  });

labOptions(program.command('matrix'), false)
  .description('run scenarios × {redis, memory} × {pod, service} × {recovery on, off} and print one table')
  .addOption(new Option('--scenarios <names>', 'comma-separated scenarios (default: all)'))
  .action(async (flags: LabFlags & { scenarios?: string }) => {
    const names = flags.scenarios ? flags.scenarios.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
    for (const name of names) {
      if (!SCENARIOS.some((s) => s.name === name)) program.error(`error: option '--scenarios <names>': no scenario named "${name}"`, { exitCode: 2 });
    }
    const rows = await runMatrix(names, labConfig({ ...flags, store: LAB_DEFAULTS.store, pinning: LAB_DEFAULTS.pinning, recovery: LAB_DEFAULTS.recovery }), {
      clients: flags.clients,
      onRow: (row) => process.stderr.write(`  ${describeRow(row)}\n`),
    });
    process.stdout.write(flags.json ? JSON.stringify(rows) + '\n' : formatMatrix(rows));
  });

labOptions(program.command('report'))
  .description('run a scenario and write a Markdown + JSON bug report of it (versions, config, timeline, session traces)')
  .addOption(new Option('--scenario <name>', 'the scenario to run').default('pod-kill'))
  .addOption(new Option('--out <dir>', 'where to write pinlab-report.md and pinlab-report.json').default('pinlab-report'))
  .action(async (flags: LabFlags & { scenario: string; out: string }) => {
    if (!SCENARIOS.some((s) => s.name === flags.scenario)) program.error(`error: option '--scenario <name>': no scenario named "${flags.scenario}"`, { exitCode: 2 });
    const result = await runScenario(flags.scenario, labConfig(flags), { clients: flags.clients });
    const report = buildReport({ title: `scenario ${flags.scenario}`, config: result.config, runtimeNote: result.runtime, versions: result.versions, events: result.events });
    const paths = await writeReport(flags.out, report);
    process.stdout.write(flags.json ? JSON.stringify(paths) + '\n' : `${formatVerdict(result)}report: ${paths.markdown}\n        ${paths.json}\n`);
  });

labOptions(program.command('serve'))
  .description('web mode: the lab\'s UI and typed API over HTTP and WebSocket on 127.0.0.1, guarded by a per-run token')
  .addOption(new Option('--port <port>', 'web port (0 = any free one)').argParser(count(listenPortSchema)).default(7401))
  .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
  .addOption(new Option('--ingress-port <port>', 'the lab\'s MCP front door').argParser(count(labConfigSchema.shape.ingressPort)).default(LAB_DEFAULTS.ingressPort))
  .option('--dangerously-allow-remote', 'listen beyond loopback (exposes the lab\'s controls to the network)')
  .option('--no-start', 'do not start a lab now: the UI starts one')
  .option('--open', 'open the UI in the default browser, where there is a desktop')
  .action(async (flags: LabFlags & { port: number; host: string; ingressPort: number; dangerouslyAllowRemote?: boolean; start: boolean; open?: boolean }) => {
    const service = new LabService({ ...labConfig(flags), ingressPort: flags.ingressPort });
    process.stderr.write(formatBrokenCombos(parseLabConfig(labConfig(flags))));
    await ensureBuilt((line) => process.stdout.write(`${line}\n`))
      .catch((error: Error) => process.stderr.write(`pinlab: could not build the UI (${error.message}); the API still works\n`));
    const web: WebServer = await startWebServer({ service, port: flags.port, host: flags.host, dangerouslyAllowRemote: flags.dangerouslyAllowRemote })
      .catch((error: Error) => program.error(`error: ${error.message}`, { exitCode: 2 }));
    onStop.push(() => web.close(), () => service.close());
    if (flags.start) {
      const started = await service.invoke('lab.start');
      if ('error' in started) throw new Error(started.error.message);
      process.stdout.write(`lab ${started.result.id}: MCP ingress ${started.result.ingressUrl} (${started.result.runtime})\n`);
    }
    process.stdout.write(`Pinlab web mode: ${web.url}\n`);
    if (flags.open) {
      const opened = await openInBrowser(web.url);
      if (opened !== true) process.stdout.write(`(${opened}: open the address above yourself)\n`);
    }
    await new Promise(() => {}); // until a signal
  });

labOptions(program.command('client-check'), true, false)
  .description('check an MCP client: start a lab, run your client program against its ingress, aim faults at its session one by one, and say whether the client recovers from each')
  .addOption(new Option('--command <command>', 'your client program, run from here (no shell), with {url} where the ingress URL goes; it must keep calling (a loop), so that what it does after each fault shows').argParser(clientCommand).makeOptionMandatory())
  .addOption(new Option('--faults <names>', `comma-separated, run in this order (default: all): ${CLIENT_FAULT_NAMES.join(', ')}`).argParser(faultList))
  .addOption(new Option('--recover-within <seconds>', 'how long the client has to recover from each fault').argParser(recoverSeconds).default(10))
  .action(async (flags: LabFlags & { command: string[]; faults?: ClientFault[]; recoverWithin: number }) => {
    onStop.push(() => ClientProgram.stopAll());
    const run = await runClientCheck(labConfig(flags), {
      command: flags.command, faults: flags.faults, recoverWithinMs: flags.recoverWithin * 1000,
      onProgress: (message) => process.stderr.write(`  ${message}\n`),
    });
    const lab = `lab: ${run.config.replicas} replica(s), ${run.config.pods} pod(s), store ${run.config.store}; ${run.runtime}`;
    process.stdout.write(flags.json ? JSON.stringify({ client: run.client, ingressUrl: run.ingressUrl, verdicts: run.verdicts }) + '\n' : formatClientCheck(run.client, run.verdicts, lab));
    // A client that did not recover from a fault fails the command, for scripts and CI.
    if (run.verdicts.some((v) => v.verdict === 'fail')) process.exitCode = 1;
  });

/** What signals must close besides running labs (web mode's server). */
const onStop: (() => Promise<unknown>)[] = [];
await runProgram(program, 'pinlab', onStop);
