import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChild, spawnNode } from '../../proxy-core/test/processes.ts';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { freePort } from '../net/free-port.ts';
import { connectEraClient } from './era-client.ts';
import { Traffic, type CallRecord } from './traffic.ts';

// One real lab on the process runtime (embedded Redis, 2 replicas, 2 demo pods) for the era
// tests; server-everything, which no one here wrote, for a server that has no modern era.
type Call = Extract<LabEvent, { type: 'traffic.call' }>;

let lab: Lab;
const events: LabEvent[] = [];
let redis: Redis;
beforeAll(async () => {
  lab = await Lab.start({ runtime: 'process', ingressPort: 0, replicas: 2, pods: 2, store: 'redis' }, { onEvent: (e) => events.push(e) });
  redis = new Redis(lab.redisUrl()!, { lazyConnect: true });
  await redis.connect();
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await lab?.stop();
});

/** Redis commands run so far by name, leaving out the lab's own key count (SCAN) and this measuring (INFO). */
async function commandCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, name, calls] of (await redis.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (name !== 'info' && name !== 'scan') counts.set(name!, Number(calls));
  }
  return counts;
}

function used(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after].map(([name, calls]): [string, number] => [name, calls - (before.get(name) ?? 0)]).filter(([, n]) => n > 0);
}

describe('simulated clients by era', () => {
  it('modern requests through the lab cost 0 Redis commands; a legacy session\'s cost some', async () => {
    const before = await commandCounts();
    const modern = await connectEraClient('modern', 'redis-count', lab.ingressUrl);
    expect(modern.sessionId).toBeNull();
    const cart = (await modern.callTool('cart.create', {})).structuredContent as { handle: string };
    for (let i = 0; i < 10; i++) await modern.callTool('whoami', {});
    await modern.callTool('cart.get', { handle: cart.handle });
    await modern.listTools();
    await modern.probe();
    await modern.close();
    expect(used(before, await commandCounts()), 'server/discover and 14 modern requests via 2 replicas').toEqual([]);

    const legacy = await connectEraClient('legacy', 'redis-count', lab.ingressUrl);
    expect(legacy.sessionId).toBeTruthy();
    for (let i = 0; i < 3; i++) await legacy.callTool('counter', {});
    await legacy.close();
    const legacyUsed = new Map(used(before, await commandCounts()));
    expect(legacyUsed.get('getex'), 'each follow-up reads its session record').toBeGreaterThanOrEqual(3);
  });

  it('a mix: modernShare of the clients speak 2026-07-28 (carts, no session), the rest are legacy (counter, sessions); each call says its era', async () => {
    const from = events.length;
    lab.startTraffic({ clients: 4, rate: 5, clientsEra: 'mix', modernShare: 0.5 });
    await sleep(3000);
    await lab.stopTraffic();
    const calls = events.slice(from).filter((e): e is Call => e.type === 'traffic.call' && e.ok);
    const eraOf = new Map<string, string | undefined>();
    for (const call of calls) {
      if (eraOf.has(call.client)) expect(call.era, `${call.client} keeps its era`).toBe(eraOf.get(call.client));
      eraOf.set(call.client, call.era);
    }
    expect([...eraOf].sort()).toEqual([['client-1', 'modern'], ['client-2', 'modern'], ['client-3', 'legacy'], ['client-4', 'legacy']]);

    const modern = calls.filter((c) => c.era === 'modern');
    const legacy = calls.filter((c) => c.era === 'legacy');
    expect(modern.every((c) => c.sessionId === null && /^tools\/call cart\.(create|add|get)$/.test(c.method))).toBe(true);
    expect(legacy.every((c) => c.sessionId !== null && c.method === 'tools/call counter')).toBe(true);
    expect(new Set(calls.map((c) => c.pod)), 'each call names the pod that answered it').toEqual(new Set(['pod-1', 'pod-2']));

    // What the leak detector reads: the handle comes back from cart.create and goes out with cart.add / cart.get.
    const created = modern.find((c) => c.method === 'tools/call cart.create')!;
    const handle = created.returned!.find((value) => /^[0-9a-f]{32}$/.test(value))!;
    expect(handle).toBeDefined();
    expect(modern.some((c) => c.method !== 'tools/call cart.create' && c.args!.includes(handle))).toBe(true);
    expect(events.slice(from)).toContainEqual(expect.objectContaining({ type: 'lab.log', message: expect.stringMatching(/4 client\(s\) \(mixed: 50% modern\)/) }));
  });
});

describe('modern clients against a server without the modern era (server-everything)', () => {
  let everything: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    ({ child: everything } = await spawnNode('node_modules/@modelcontextprotocol/server-everything/dist/index.js', ['streamableHttp'], /listening on port/, { PORT: String(port) }));
    url = `http://127.0.0.1:${port}/mcp`;
  });
  afterAll(async () => {
    if (everything) await killChild(everything);
  });

  it('fail to connect and say why, while legacy clients beside them ping and list tools', async () => {
    const traffic = new Traffic();
    const calls: CallRecord[] = [];
    traffic.start({ url, clients: 2, rate: 5, clientsEra: 'mix', modernShare: 0.5 }, (call) => calls.push(call));
    await sleep(1500);
    await traffic.stop();
    const modern = calls.filter((c) => c.era === 'modern');
    expect(modern.length).toBeGreaterThan(0);
    expect(modern.every((c) => !c.ok && c.method === 'server/discover')).toBe(true);
    expect(modern[0]!.error).toMatch(/did not offer pinned protocol version 2026-07-28/);
    const legacy = calls.filter((c) => c.era === 'legacy');
    expect(legacy.length).toBeGreaterThan(2);
    expect(legacy.every((c) => c.ok && ['ping', 'tools/list'].includes(c.method) && c.pod === null)).toBe(true);
  });
});
