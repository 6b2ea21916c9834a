import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killChild, spawnNode } from '../../test/processes.ts';

/**
 * Two pods that say who they are: initialize mints `<pod>-<n>`; any other POST answers with the
 * pod and the session it came with — chunked (two writes, no length) or, with `?length`, with a
 * Content-Length — so that a floor study's framing and pinning can both be seen.
 */
function startPods(): Promise<{ urls: string[]; close(): void }> {
  let minted = 0;
  const servers: Server[] = ['a', 'b'].map((pod) => createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const session = req.headers['mcp-session-id'];
      if (session === undefined) return void res.writeHead(200, { 'mcp-session-id': `${pod}-${++minted}` }).end('initialized');
      const answer = `{"pod":"${pod}","session":"${session}"}`;
      if (req.url!.endsWith('?length')) return void res.writeHead(200, { 'content-length': answer.length }).end(answer);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(answer.slice(0, 10));
      setTimeout(() => res.end(answer.slice(10)), 5); // a second chunk in a later packet
    });
  }));
  return new Promise((resolve) => {
    let listening = 0;
    for (const server of servers) {
      server.listen(0, '127.0.0.1', () => {
        if (++listening < servers.length) return;
        resolve({
          urls: servers.map((s) => `http://127.0.0.1:${(s.address() as { port: number }).port}/mcp`),
          close: () => servers.forEach((s) => s.close()),
        });
      });
    }
  });
}

describe.each(['lean-upstream', 'lean-server', 'lean'])('floor study %s', (study) => {
  let pods: Awaited<ReturnType<typeof startPods>>;
  let url: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    pods = await startPods();
    const { child, line } = await spawnNode(`proxy-core/bench/floor/${study}.ts`, pods.urls, / listening on /);
    url = line.split(' listening on ')[1]!.trim();
    stop = () => killChild(child);
  });
  afterAll(async () => {
    await stop?.();
    pods?.close();
  });

  const post = async (session?: string, query = '') => {
    const response = await request(url + query, { method: 'POST', headers: session ? { 'mcp-session-id': session } : {}, body: '{}' });
    return { status: response.statusCode, session: response.headers['mcp-session-id'], body: await response.body.text() };
  };

  it('spreads new sessions over the pods, then keeps each on the pod that made it, answers whole', async () => {
    const first = await post();
    const second = await post();
    expect([first.status, first.body, second.body]).toEqual([200, 'initialized', 'initialized']);
    const sessions = [first.session as string, second.session as string];
    expect(new Set(sessions.map((s) => s[0]))).toEqual(new Set(['a', 'b']));
    for (const session of [...sessions, ...sessions]) {
      for (const query of ['', '?length']) {
        expect(await post(session, query)).toMatchObject({ status: 200, body: `{"pod":"${session[0]}","session":"${session}"}` });
      }
    }
  });

  it('answers 502 when the pod cannot be reached', async () => {
    const { child, line } = await spawnNode(`proxy-core/bench/floor/${study}.ts`, ['http://127.0.0.1:1/mcp'], / listening on /);
    try {
      const response = await request(line.split(' listening on ')[1]!.trim(), { method: 'POST', body: '{}' });
      await response.body.dump();
      expect(response.statusCode).toBe(502);
    } finally {
      await killChild(child);
    }
  });
});
