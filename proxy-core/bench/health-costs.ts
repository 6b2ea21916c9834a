// What health probes cost a pod, and how long a hung pinned pod makes the client's next call
// wait with the default probes (`npm run bench:proxy -- --health-costs`).
import { Pool } from 'undici';
import { startPods } from '../test/pods.ts';
import { spawnReplica } from '../test/replicas.ts';
import { cpuMicros } from './cpu.ts';
import { ECHO, openSession } from './load.ts';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** Pod CPU per health probe (OPTIONS on the MCP path, one kept-alive connection, as a replica sends them), and per echo call for scale. */
export async function probeCost(): Promise<void> {
  const [pod] = await startPods(1);
  const count = 5000;
  try {
    const url = new URL(pod!.url);
    const pool = new Pool(url.origin, { connections: 1 });
    const { id } = await openSession(pool, url.pathname);
    const measure = async (send: () => Promise<void>) => {
      const before = cpuMicros(pod!.pid);
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        await send();
        latencies.push(performance.now() - started);
      }
      const after = cpuMicros(pod!.pid);
      latencies.sort((a, b) => a - b);
      return { cpuUs: before === null || after === null ? NaN : (after - before) / count, p50: latencies[Math.floor(count / 2)]! };
    };
    const probe = await measure(async () => {
      await (await pool.request({ path: url.pathname, method: 'OPTIONS', headers: { 'user-agent': 'pinlab-proxy health probe' } })).body.dump();
    });
    const call = await measure(async () => {
      await (await pool.request({ path: url.pathname, method: 'POST', headers: { ...HEADERS, 'mcp-session-id': id }, body: ECHO })).body.text();
    });
    await pool.close();
    console.log(`\nhealth probe cost on a demo pod (${count} of each, one kept-alive connection):`);
    console.log(`  probe (OPTIONS ${url.pathname}): ${probe.cpuUs.toFixed(0)} µs of pod CPU, p50 ${probe.p50.toFixed(2)} ms`);
    console.log(`  tools/call echo, for scale:  ${call.cpuUs.toFixed(0)} µs of pod CPU, p50 ${call.p50.toFixed(2)} ms`);
    console.log(`  at 1 probe/s per replica: ${((probe.cpuUs / 1e6) * 100).toFixed(3)} % of one core per replica`);
  } finally {
    await pod!.kill();
  }
}

/** With the default probes (1 s interval, 1 s timeout, unhealthy after 2): a client's call sent just after its pod froze. */
export async function hungPodWait(): Promise<void> {
  const pods = await startPods(3);
  const replica = await spawnReplica({ backends: pods.map((p) => p.url), store: 'memory', replicaId: 'bench-health' });
  const rounds = 5;
  const waits: number[] = [];
  let errors = 0;
  try {
    const url = new URL(replica.url);
    for (let round = 0; round < rounds; round++) {
      const pool = new Pool(url.origin, { connections: 2 });
      const { id } = await openSession(pool, url.pathname);
      const headers = { ...HEADERS, 'mcp-session-id': id };
      const send = async (body: string) => (await pool.request({ path: url.pathname, method: 'POST', headers, body })).body.text();
      await send('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'); // whoami is read-only: replayed if it was under way
      const whoami = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}';
      const pinned = podNamed(await send(whoami));
      const pod = pods.find((p) => p.name === pinned)!;
      pod.pause();
      const started = performance.now();
      const answer = await send(whoami);
      waits.push(performance.now() - started);
      if (!answer.includes('"result"') || podNamed(answer) === pod.name) errors++;
      pod.resume();
      await pool.close();
      await new Promise((r) => setTimeout(r, 1500)); // one answered probe: healthy again
    }
  } finally {
    await replica.kill();
    for (const pod of pods) pod.resume();
    await Promise.all(pods.map((p) => p.kill()));
  }
  waits.sort((a, b) => a - b);
  console.log(`\nhung pinned pod (SIGSTOP), default probes: the next call answered after ${waits.map((w) => (w / 1000).toFixed(2)).join(', ')} s (${rounds} rounds), client errors ${errors}`);
}

/** The pod a whoami answer names. */
function podNamed(answer: string): string | undefined {
  return /\\"pod\\":\\"(pod-\d+)\\"/.exec(answer)?.[1];
}
