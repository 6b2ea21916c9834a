import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from './test/client.ts';
import { DNSMASQ, startDnsServer, TEST_DOMAIN, type TestDnsServer } from './test/dns-server.ts';
import { ofType, until } from './test/lab.ts';
import { startPod, type TestPod } from './test/pods.ts';
import { spawnReplica, startReplica } from './test/replicas.ts';

if (!DNSMASQ) {
  console.warn('proxy-core/dns.test.ts: dnsmasq is not installed (apt-get install dnsmasq), so pod discovery from DNS (--backend-dns) was NOT tested.');
}

const NAME = `mcp-backend.${TEST_DOMAIN}`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** SDK clients calling `whoami` in a loop until stopped: which pod answered each call started in which phase, and every error. */
function callInLoop(clients: Client[], phase: () => string) {
  const answers: { pod: string; phase: string }[] = [];
  const errors: string[] = [];
  let running = true;
  const loops = clients.map(async (client) => {
    client.onerror = (error) => errors.push(`transport: ${error.message}`);
    while (running) {
      const started = phase();
      try {
        answers.push({ pod: (await call<{ pod: string }>(client, 'whoami')).pod, phase: started });
      } catch (error) {
        errors.push(String(error));
        await sleep(50); // a client that fails at once must not starve the event loop
      }
    }
  });
  return {
    answers, errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe.skipIf(!DNSMASQ)('pod discovery from a headless Service\'s name (--backend-dns), answered by dnsmasq on loopback', () => {
  let dns: TestDnsServer;
  /** Three pods on the same port, on 127.0.0.2, .3 and .4, as a headless Service's pods are. */
  let pods: TestPod[];
  const target = () => ({ name: NAME, port: pods[0]!.port, path: '/mcp' });

  beforeAll(async () => {
    dns = await startDnsServer();
    const first = await startPod('pod-a', { host: '127.0.0.2' });
    pods = [first, ...(await Promise.all([['pod-b', '127.0.0.3'], ['pod-c', '127.0.0.4']].map(([name, host]) => startPod(name!, { host, port: first.port }))))];
  });
  afterAll(async () => {
    for (const pod of pods ?? []) pod.resume();
    await Promise.all((pods ?? []).map((p) => p.kill()));
    await dns?.close();
  });

  it('follows the record set while SDK clients call: no client error, the new pod takes sessions, the removed one is forgotten at once', async () => {
    const [a, b, c] = pods as [TestPod, TestPod, TestPod];
    await dns.setRecords(NAME, ['127.0.0.2', '127.0.0.3']);
    const replica = await startReplica({ backends: [], backendDns: target(), dnsServer: dns.address, dnsRefreshMs: 100 });
    cleanups.push(() => replica.close());
    expect(ofType(replica.events, 'dns.changed').map((e) => e.pods)).toEqual([[a.address, b.address]]);

    const clients = await Promise.all(Array.from({ length: 4 }, async () => (await connectClient(replica.url)).client));
    cleanups.push(() => Promise.all(clients.map((client) => client.close())));
    let phase = 'before';
    const load = callInLoop(clients, () => phase);
    await until('calls answered by both pods', () => new Set(load.answers.map((x) => x.pod)).size === 2);

    // pod-a leaves the answer, pod-c joins. Once nothing is under way on pod-a, it is frozen:
    // anything the proxy still sent it would hang (no health verdict: a pod that left is not probed).
    await dns.setRecords(NAME, ['127.0.0.3', '127.0.0.4']);
    await until('the change seen', () => ofType(replica.events, 'dns.changed').length === 2);
    phase = 'after';
    await until('no call under way on pod-a', () => !replica.proxy.inFlight().some((p) => p.pod === a.address));
    const before = await a.stats();
    a.pause();
    const newcomers = await Promise.all(Array.from({ length: 2 }, async () => (await connectClient(replica.url)).client));
    cleanups.push(() => Promise.all(newcomers.map((client) => client.close())));
    const late = callInLoop(newcomers, () => 'after');
    await until('every client answered 5 times since', () => load.answers.filter((x) => x.phase === 'after').length >= 20 && late.answers.length >= 10);
    await Promise.all([load.stop(), late.stop()]);

    expect([...load.errors, ...late.errors]).toEqual([]);
    const change = ofType(replica.events, 'dns.changed')[1];
    expect(change).toMatchObject({ name: NAME, pods: [b.address, c.address], added: [c.address], removed: [a.address] });
    const after = [...load.answers, ...late.answers].filter((x) => x.phase === 'after').map((x) => x.pod);
    expect(after, 'nothing started after the change reached pod-a').not.toContain('pod-a');
    expect(after, 'the new pod serves').toContain('pod-c');
    const recovered = ofType(replica.events, 'recovery.done');
    expect(recovered.length, 'the sessions that were on pod-a moved').toBeGreaterThan(0);
    expect(recovered.every((e) => e.fromPod === a.address && e.cause === 'pod-left')).toBe(true);
    expect(replica.proxy.podHealth().map((p) => p.pod).sort(), 'probed: the pods of the answer, not the one that left').toEqual([b.address, c.address]);

    await replica.close();
    a.resume();
    const since = await a.stats();
    // One request: the second stats() itself.
    expect({ requests: since.requests - before.requests, probes: since.probes - before.probes }, 'pod-a heard nothing after it left').toEqual({ requests: 1, probes: 0 });
  });

  it('keeps the last good answer while DNS fails, with a warning and an event, and follows it again when DNS answers', async () => {
    const [, b, c] = pods as [TestPod, TestPod, TestPod];
    await dns.setRecords(NAME, ['127.0.0.3']);
    const replica = await spawnReplica({ backends: [], backendDns: target(), dnsServer: dns.address, dnsRefreshMs: 100 });
    cleanups.push(() => replica.kill());
    const session = await rawSession(replica.url);

    await dns.stop();
    cleanups.push(() => dns.start()); // for the other tests, if this one fails half-way
    await until('a warning about the failed lookup', () => /"level":"warn","msg":"dns\.failed"/.test(replica.output()));
    const line = replica.output().split('\n').find((l) => l.includes('"msg":"dns.failed"')) as string;
    expect(JSON.parse(line)).toMatchObject({ name: NAME, failures: 1, kept: [b.address] });
    // Meanwhile the last good answer serves: an existing session, and a new one.
    expect((await rawCall(replica.url, session, 'whoami')).body).toContain('pod-b');
    expect((await rawCall(replica.url, await rawSession(replica.url), 'whoami')).body).toContain('pod-b');

    await dns.start();
    await dns.setRecords(NAME, ['127.0.0.4']);
    await until('DNS followed again', () => /DNS answers for mcp-backend\.pinlab\.test again/.test(replica.output()) && /"added":\["127\.0\.0\.4:\d+"\]/.test(replica.output()));
    expect((await rawCall(replica.url, await rawSession(replica.url), 'whoami')).body).toContain(c.name);
  });

  it('starts with no pod while the name has no address, says why a client is refused, and serves once it has one', async () => {
    const [, b] = pods as [TestPod, TestPod, TestPod];
    await dns.setRecords(NAME, []);
    const replica = await startReplica({ backends: [], backendDns: target(), dnsServer: dns.address, dnsRefreshMs: 100 });
    cleanups.push(() => replica.close());
    expect(ofType(replica.events, 'dns.failed')[0]).toMatchObject({ name: NAME, failures: 1, kept: [] });
    expect(ofType(replica.events, 'dns.failed')[0]?.message).toMatch(/no address for mcp-backend\.pinlab\.test .*NOTFOUND/);
    await expect(rawSession(replica.url)).rejects.toThrow(/initialize answered 502/);

    await dns.setRecords(NAME, ['127.0.0.3']);
    await until('the first answer', () => ofType(replica.events, 'dns.changed').length === 1);
    expect((await rawCall(replica.url, await rawSession(replica.url), 'whoami')).body).toContain(b.name);
  });
});
