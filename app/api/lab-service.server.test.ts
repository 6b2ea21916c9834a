import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportJson } from '../report/report.ts';
import { LabService } from './lab-service.ts';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';

describe('the server under test through the typed API', () => {
  const service = new LabService({ runtime: 'process', ingressPort: 0 });
  let dir = '';
  afterAll(async () => {
    await service.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says what the pods run, refuses a call they cannot take, and records the server in the report', async () => {
    const started = await service.invoke('lab.start', {
      replicas: 1, pods: 1, store: 'memory', backend: { kind: 'command', command: process.execPath, args: [EVERYTHING, 'streamableHttp'] },
    });
    if ('error' in started) throw new Error(started.error.message);
    expect(started.result.server).toMatchObject({ kind: 'command', source: `command ${process.execPath} ${EVERYTHING} streamableHttp`, name: 'mcp-servers/everything', sessions: true, error: null });
    const status = await service.invoke('lab.status');
    if ('error' in status) throw new Error(status.error.message);
    expect(status.result?.server?.tools.map((t) => t.name)).toContain('get-sum');
    const snapshot = service.getSnapshot();
    expect(snapshot.server?.name).toBe('mcp-servers/everything');

    expect(await service.invoke('traffic.start', { clients: 1, rate: 1, call: { tool: 'get-sum', args: { a: 1 } } }))
      .toEqual({ error: { message: 'arguments for "get-sum" do not match its input schema: must have required property \'b\'' } });
    expect(await service.invoke('traffic.start', { clients: 1, rate: 1, call: { tool: 'sum' } }))
      .toEqual({ error: { message: expect.stringMatching(/^no tool "sum" on mcp-servers\/everything: its tools are echo, /) } });
    expect(await service.invoke('traffic.start', { clients: 2, rate: 10, call: { tool: 'get-sum', args: { a: 1, b: 2 } } })).toEqual({ result: null });
    await expect.poll(() => service.getSnapshot().totals.calls, { timeout: 10_000 }).toBeGreaterThan(3);
    // The status says what runs, for a UI that did not start it (the control bar shows it).
    expect(await service.invoke('lab.status')).toMatchObject({ result: { traffic: { clients: 2, rate: 10, clientsEra: 'legacy', modernShare: null, call: { tool: 'get-sum', args: { a: 1, b: 2 } } } } });
    expect(await service.invoke('traffic.stop')).toEqual({ result: null });
    expect(await service.invoke('lab.status')).toMatchObject({ result: { traffic: null } });
    expect(service.getSnapshot().totals).toMatchObject({ clientErrors: 0, sessionless: 0 });

    dir = await mkdtemp(join(tmpdir(), 'pinlab-report-test-'));
    const report = await service.invoke('report.export', { dir });
    if ('error' in report) throw new Error(report.error.message);
    const markdown = await readFile(report.result.markdown, 'utf8');
    const section = markdown.slice(markdown.indexOf('## Server under test'), markdown.indexOf('## Versions'));
    expect(section).toContain(`- source: command ${process.execPath} ${EVERYTHING} streamableHttp`);
    expect(section).toContain('- name: mcp-servers/everything');
    expect(section).toMatch(/- version: \d+\.\d+\.\d+/);
    expect(section).toMatch(/- protocol version: \d{4}-\d{2}-\d{2}/);
    expect(section).toContain('- sessions: yes');
    expect(section).toMatch(/- tools: \d+ \(echo, /);
    expect(markdown).toMatch(/server under test: mcp-servers\/everything \S+ \(command .*\), protocol \S+, sessions, \d+ tool\(s\)/);
    const json = JSON.parse(await readFile(report.result.json, 'utf8')) as ReportJson;
    expect(json.server).toMatchObject({ name: 'mcp-servers/everything', sessions: true });
    expect(json.verdict).toMatchObject({ clientErrors: 0, sessionless: 0 });
  });
});
