import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { LabConfigInput } from '../config.ts';
import { Lab } from '../lab.ts';
import { runScenario, type ScenarioResult } from '../scenarios/run.ts';
import { SCENARIOS } from '../scenarios/scenarios.ts';
import { LabService } from '../api/lab-service.ts';
import { buildReport, writeReport } from '../report/report.ts';
import { startWebServer, type WebServer } from '../web/server.ts';
import { runMatrix } from '../scenarios/matrix.ts';
import { formatMatrix, formatVerdict } from './format.ts';

function count(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

function onOff(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError(`expected on or off, got "${value}"`);
}

interface LabFlags {
  replicas: number;
  pods: number;
  runtime: 'docker' | 'process' | 'auto';
  store: 'redis' | 'memory';
  pinning: 'pod' | 'service';
  recovery: boolean;
  affinity: 'round-robin' | 'client-ip' | 'cookie' | 'session-hash';
  clients: number;
  json?: boolean;
}

/** The lab flags shared by `scenario`, `matrix` (and, later, `serve`). */
function labOptions(command: Command, modeFlags = true): Command {
  command
    .addOption(new Option('--replicas <n>', 'proxy replicas').argParser(count(1, 16)).default(2))
    .addOption(new Option('--pods <m>', 'backend pods').argParser(count(1, 32)).default(3))
    .addOption(new Option('--runtime <kind>', 'where pods run').choices(['docker', 'process', 'auto']).default('auto'))
    .addOption(new Option('--affinity <policy>', 'how the ingress spreads requests').choices(['round-robin', 'client-ip', 'cookie', 'session-hash']).default('round-robin'))
    .addOption(new Option('--clients <k>', 'simulated MCP clients').argParser(count(1, 500)).default(8))
    .option('--json', 'print one JSON object instead of a readable verdict');
  if (modeFlags) {
    command
      .addOption(new Option('--store <kind>', 'session store').choices(['redis', 'memory']).default('redis'))
      .addOption(new Option('--pinning <kind>', 'what a session record pins').choices(['pod', 'service']).default('pod'))
      .addOption(new Option('--recovery <on|off>', 'transparent re-initialization').argParser(onOff).default(true, 'on'));
  }
  return command;
}

function labConfig(flags: LabFlags): LabConfigInput {
  return {
    replicas: flags.replicas, pods: flags.pods, runtime: flags.runtime, store: flags.store, pinning: flags.pinning,
    recovery: flags.recovery, affinity: flags.affinity, ingressPort: 0,
  };
}

/** What `--json` prints for a scenario: the issue's fields, nothing more. */
function resultJson(result: ScenarioResult) {
  return {
    scenario: result.scenario,
    config: { ...result.config, runtime: result.runtime },
    requests: result.requests,
    clientErrors: result.clientErrors,
    recoveries: result.recoveries,
    stateLosses: result.stateLosses,
    latencyMs: result.latencyMs,
  };
}

const program = new Command('pinlab')
  .description('Pinlab: a lab for horizontally scaled MCP servers — proxy replicas, a session store and pods on this machine.')
  .exitOverride();

program.command('scenarios').description('list the scenarios').action(() => {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.description}\n`);
});

labOptions(program.command('scenario').argument('<name>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`))
  .description('start a lab, run traffic and one scenario\'s chaos, and print its verdict')
  .action(async (name: string, flags: LabFlags) => {
    if (!SCENARIOS.some((s) => s.name === name)) program.error(`error: no scenario named "${name}" (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`, { exitCode: 2 });
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
    const rows = await runMatrix(names, labConfig({ ...flags, store: 'redis', pinning: 'pod', recovery: true }), {
      clients: flags.clients,
      onRow: (row) => process.stderr.write(`  ${row.scenario}: store ${row.store}, pinning ${row.pinning}, recovery ${row.recovery ? 'on' : 'off'}: ${row.verdict ? `${row.verdict.clientErrors} client error(s)` : 'n/a'}\n`),
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
  .addOption(new Option('--port <port>', 'web port (0 = any free one)').argParser(count(0, 65535)).default(7401))
  .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
  .addOption(new Option('--ingress-port <port>', 'the lab\'s MCP front door').argParser(count(0, 65535)).default(7400))
  .option('--dangerously-allow-remote', 'listen beyond loopback (exposes the lab\'s controls to the network)')
  .option('--no-start', 'do not start a lab now: the UI starts one')
  .action(async (flags: LabFlags & { port: number; host: string; ingressPort: number; dangerouslyAllowRemote?: boolean; start: boolean }) => {
    const service = new LabService({ ...labConfig(flags), ingressPort: flags.ingressPort });
    const web: WebServer = await startWebServer({ service, port: flags.port, host: flags.host, dangerouslyAllowRemote: flags.dangerouslyAllowRemote })
      .catch((error: Error) => program.error(`error: ${error.message}`, { exitCode: 2 }));
    onStop.push(() => web.close(), () => service.close());
    if (flags.start) {
      const started = await service.invoke('lab.start');
      if ('error' in started) throw new Error(started.error.message);
      process.stdout.write(`lab ${started.result.id}: MCP ingress ${started.result.ingressUrl} (${started.result.runtime})\n`);
    }
    process.stdout.write(`Pinlab web mode: ${web.url}\n`);
    await new Promise(() => {}); // until a signal
  });

/** What signals must close besides running labs (web mode's server). */
const onStop: (() => Promise<unknown>)[] = [];
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
  process.stderr.write(`pinlab: ${(error as Error).message}\n`);
  await Lab.stopAll();
  process.exit(1);
}
