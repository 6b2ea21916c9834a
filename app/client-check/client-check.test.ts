import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../proxy-core/test/processes.ts';
import { LabService } from '../api/lab-service.ts';
import type { LabEvent } from '../events.ts';
import { callsOf, peekClient } from '../ingress/client-peek.ts';
import { CLIENT_FAULT_NAMES, type ClientFaultVerdict } from '../shared/client-faults.ts';
import { Lab } from '../lab.ts';
import { describe as story, worthALine } from '../shared/describe.ts';
import { ClientProgram } from './program.ts';

const FIXTURE = 'app/client-check/fixtures/sdk-client.ts';

interface CheckJson {
  client: { name: string; version: string };
  ingressUrl: string;
  verdicts: ClientFaultVerdict[];
}

function clientCheck(args: string[]) {
  const result = spawnSync(process.execPath, ['app/cli/bin.js', 'client-check', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Pids of processes whose command line holds `text` (the fixture's ingress URL is unique to a run). */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function byFault(result: CheckJson): Record<string, ClientFaultVerdict> {
  return Object.fromEntries(result.verdicts.map((v) => [v.fault, v]));
}

describe('what the ingress reads of a client', () => {
  it('names the client of an initialize and of a 2026-07-28 request, and leaves other bodies unparsed', () => {
    const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'MCP Inspector', version: '0.17.0' } } };
    expect(peekClient(Buffer.from(JSON.stringify(initialize)))).toEqual({ clientInfo: { name: 'MCP Inspector', version: '0.17.0' }, initialize: true });
    const modern = { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/clientInfo': { name: 'agent', version: '2' } } } };
    expect(peekClient(Buffer.from(JSON.stringify(modern)))).toEqual({ clientInfo: { name: 'agent', version: '2' }, initialize: false });
    expect(peekClient(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'))).toBeNull();
    expect(peekClient(Buffer.from('{"method":"initialize", not json'))).toBeNull();
    expect(peekClient(Buffer.from(JSON.stringify({ ...initialize, params: { clientInfo: { version: '1' } } })))).toBeNull();
  });

  it('tells a call sent again from a new one by its method and parameters, not its id or _meta', () => {
    const call = (id: number, text: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text }, _meta: { progressToken: id } } });
    const [first] = callsOf(Buffer.from(JSON.stringify(call(1, 'a'))));
    const [again] = callsOf(Buffer.from(JSON.stringify(call(2, 'a'))));
    const [other] = callsOf(Buffer.from(JSON.stringify(call(3, 'b'))));
    expect(first!.key).toBe(again!.key);
    expect(other!.key).not.toBe(first!.key);
    expect(callsOf(Buffer.from('[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":7,"method":"ping"}]'))).toEqual([{ id: 7, method: 'ping', key: 'ping {}' }]);
  });
});

describe('pinlab client-check', () => {
  it.each([
    [[], /required option '--command <command>' not specified/],
    [['--command', 'node my-client.js'], /'--command <command>'.*must hold \{url\} where the ingress URL goes/],
    [['--command', 'node c.js {url} | tee log'], /'--command <command>'.*"\|" is shell syntax/],
    [['--command', 'node c.js {url}', '--faults', 'session-expiry,nope'], new RegExp(`'--faults <names>'.*expected faults among ${CLIENT_FAULT_NAMES.join(', ')}, got "nope"`)],
    [['--command', 'node c.js {url}', '--recover-within', '0'], /'--recover-within <seconds>'.*from 1 to 120, got "0"/],
    [['--command', 'node c.js {url}', '--clients', '3'], /unknown option '--clients'/],
  ])('bad input %j: a clear message in one line, exit 2', (args, message) => {
    const { code, stderr } = clientCheck(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the SDK\'s own Client fails the expiry fault — it never re-initializes after a 404 (typescript-sdk #1708) — and reconnects a cut GET stream', () => {
    const { code, stdout, stderr } = clientCheck([
      '--runtime', 'process', '--replicas', '1', '--pods', '2', '--store', 'memory', '--recover-within', '4', '--json',
      '--faults', 'session-expiry,stream-cut', '--command', `${process.execPath} ${FIXTURE} {url}`,
    ]);
    expect(code, stderr).toBe(1); // a fault failed
    const result = JSON.parse(stdout) as CheckJson;
    expect(result.client.name).toBe('sdk-client');
    const { 'session-expiry': expiry, 'stream-cut': cut } = byFault(result);
    expect(expiry).toMatchObject({ verdict: 'fail', outcome: 'stuck', newSessionId: null, recoveredInMs: null });
    expect(expiry!.callsFailed).toBeGreaterThan(3);
    expect(expiry!.callsLost).toBe(expiry!.callsFailed);
    expect(expiry!.saw).toEqual([`HTTP 404 ×${expiry!.callsFailed}`]);
    expect(expiry!.detail).toMatch(/never re-initialized/);
    // It was started again after the expiry, so the stream-cut found it working, on a new session.
    expect(stderr).toMatch(/the client is stuck since the last fault; starting it again/);
    expect(cut).toMatchObject({ verdict: 'pass', outcome: 'reconnected', callsLost: 0 });
    expect(cut!.sessionId).not.toBe(expiry!.sessionId);
    expect(cut!.recoveredInMs).toBeGreaterThan(0);
    expect(processesWith(result.ingressUrl), 'the client program is gone').toEqual([]);
  }, 90_000);

  it('a client that re-initializes on a 404, as the spec asks, passes the expiry fault, and fails when the proxy answers 400 instead', () => {
    const { code, stdout, stderr } = clientCheck([
      '--runtime', 'process', '--replicas', '2', '--pods', '2', '--recover-within', '4',
      '--faults', 'session-expiry,status-400,state-reset', '--command', `${process.execPath} ${FIXTURE} {url} --reinitialize`,
    ]);
    expect(code, stderr).toBe(1);
    // The readable table: one line per fault, PASS/FAIL, time to recover, calls lost, what the client did.
    expect(stdout).toMatch(/^client sdk-client-reinitializing \d+\.\d+\.\d+: FAIL — 1 of 3 fault\(s\) not recovered from$/m);
    expect(stdout).toMatch(/^fault\s+verdict\s+recovered in\s+calls lost\s+what the client did$/m);
    expect(stdout).toMatch(/^session-expiry\s+PASS\s+\d+(\.\d)? m?s\s+0 of \d+\s+re-initialized: got HTTP 404 ×1, then sent a new initialize/m);
    expect(stdout).toMatch(/^status-400\s+FAIL\s+—\s+(\d+) of \1\s+stuck: got HTTP 400 ×\d+ for [\d.]+ s and never re-initialized$/m);
    expect(stdout).toMatch(/^state-reset\s+PASS\s+.*unaffected: kept its session .*the proxy re-initialized it on the server/m);
  }, 90_000);

  it('the same verdict fields as JSON: the re-initializing client keeps every call across an expiry', () => {
    const { stdout, stderr } = clientCheck([
      '--runtime', 'process', '--replicas', '2', '--pods', '1', '--recover-within', '4', '--json',
      '--faults', 'session-expiry', '--command', `${process.execPath} ${FIXTURE} {url} --reinitialize`,
    ]);
    const [expiry] = (JSON.parse(stdout) as CheckJson).verdicts;
    expect(expiry, stderr).toMatchObject({ fault: 'session-expiry', verdict: 'pass', outcome: 're-initialized', callsFailed: 1, callsLost: 0, saw: ['HTTP 404 ×1'] });
    expect(expiry!.newSessionId).toMatch(/\S/);
    expect(expiry!.newSessionId).not.toBe(expiry!.sessionId);
    expect(expiry!.recoveredInMs).toBeGreaterThanOrEqual(0);
    expect(expiry!.calls).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('SIGTERM during a check stops the client program and the lab', async () => {
    const child = spawn(process.execPath, [
      'app/cli/bin.js', 'client-check', '--runtime', 'process', '--replicas', '1', '--pods', '1', '--store', 'memory',
      '--command', `${process.execPath} ${FIXTURE} {url}`,
    ], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await expect.poll(() => /through (http:\/\/\S+)/.exec(stderr)?.[1], { timeout: 30_000 }).toBeTruthy();
    const url = /through (http:\/\/\S+)/.exec(stderr)![1]!;
    expect(processesWith(url).length).toBeGreaterThan(0);
    const code = await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(130);
    expect(processesWith(url)).toEqual([]);
  }, 60_000);
});

describe('clients seen at the ingress', () => {
  it('the lab\'s own clients are seen as simulated, each session once, and told by their sessions alone', async () => {
    const events: LabEvent[] = [];
    const lab = await Lab.start({ runtime: 'process', replicas: 1, pods: 1, store: 'memory', ingressPort: 0 }, { onEvent: (e) => events.push(e) });
    try {
      lab.startTraffic({ clients: 2, rate: 5 });
      await expect.poll(() => events.filter((e) => e.type === 'client.seen').length, { timeout: 15_000 }).toBe(2);
      await lab.stopTraffic();
    } finally {
      await lab.stop();
    }
    const seen = events.filter((e) => e.type === 'client.seen');
    const created = new Set(events.flatMap((e) => (e.type === 'session.created' ? [e.sessionId] : [])));
    expect(seen.map((e) => e.type === 'client.seen' && [e.clientInfo.name, e.simulated, created.has(e.sessionId!)]).sort()).toEqual([
      ['pinlab-client-1', true, true], ['pinlab-client-2', true, true],
    ]);
    expect(seen.some((e) => worthALine(e))).toBe(false);
    expect(lab.clients.clients().map((c) => c.clientInfo.name).sort()).toEqual(['pinlab-client-1', 'pinlab-client-2']);
  });
});

describe('client.check through the typed API', () => {
  const services: LabService[] = [];
  const programs: ClientProgram[] = [];
  afterEach(async () => {
    await Promise.all(programs.splice(0).map((p) => p.stop()));
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  it('refuses a check it cannot aim, names the clients it knows, and passes a client that re-initializes when its pod is lost with recovery off', async () => {
    const events: LabEvent[] = [];
    const service = new LabService({ runtime: 'process', replicas: 1, pods: 2, store: 'memory', ingressPort: 0 });
    services.push(service);
    service.follow((message) => {
      if ('events' in message) events.push(...message.events);
    });
    expect(await service.invoke('client.check', { clientName: 'x' })).toEqual({ error: { message: 'no lab is running: start one first (lab.start)' } });
    const started = await service.invoke('lab.start', {});
    if ('error' in started) throw new Error(started.error.message);

    expect(await service.invoke('client.check', {})).toEqual({ error: { message: 'client.check: arguments: name the client to check: sessionId or clientName' } });
    const badFault = await service.invoke('client.check', { clientName: 'x', faults: ['reboot'] });
    expect('error' in badFault && badFault.error.message).toMatch(/^client\.check: faults\.0: .*"session-expiry"/);
    expect(await service.invoke('client.check', { clientName: 'nobody' })).toEqual({
      error: { message: 'no client named "nobody" has opened a session through the ingress (no client from outside has opened one yet)' },
    });

    const program = new ClientProgram([process.execPath, FIXTURE, started.result.ingressUrl, '--reinitialize']);
    programs.push(program);
    program.start();
    await expect.poll(() => events.find((e) => e.type === 'client.seen'), { timeout: 20_000 }).toBeTruthy();
    const seen = events.find((e) => e.type === 'client.seen')!;
    expect(seen).toMatchObject({ clientInfo: { name: 'sdk-client-reinitializing' }, simulated: false, remoteAddress: '127.0.0.1' });
    if (seen.type !== 'client.seen') throw new Error('unreachable');
    expect(story(seen, {}).text).toMatch(/^client sdk-client-reinitializing \d+\.\d+\.\d+ from 127\.0\.0\.1 opened session \S{6}…$/);
    expect(await service.invoke('client.check', { sessionId: 'not-a-session' })).toEqual({
      error: { message: 'no client opened session not-a-… through the ingress (clients seen: sdk-client-reinitializing)' },
    });

    const checked = await service.invoke('client.check', { sessionId: seen.sessionId!, faults: ['pod-death'], recoverWithinMs: 3000 });
    if ('error' in checked) throw new Error(checked.error.message);
    const [verdict] = checked.result.verdicts;
    // The proxy cannot re-initialize for it: it drops the session and answers 404, so a client that follows the spec starts over.
    expect(verdict).toMatchObject({ fault: 'pod-death', verdict: 'pass', outcome: 're-initialized', sessionId: seen.sessionId });
    expect(verdict!.newSessionId).not.toBe(seen.sessionId);
    expect(verdict!.saw[0]).toMatch(/^HTTP 404 ×\d+$/);
    expect(started.result.config.recovery).toBe(true);
    const status = await service.invoke('lab.status');
    expect('result' in status && status.result?.config.recovery, 'recovery is put back on').toBe(true);
    await expect.poll(() => events.find((e) => e.type === 'client.checked')).toMatchObject({ fault: 'pod-death', verdict: 'pass' });
    const told = story(events.find((e) => e.type === 'client.checked')!, {});
    expect(told).toMatchObject({ tone: 'good', kinds: ['sessions'] });
    expect(told.text).toMatch(/^client check of sdk-client-reinitializing \(session \S{6}…\): pod-death: PASS — re-initialized: /);
  }, 90_000);
});
