import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedWhileBlocked } from '../../proxy-core/test/connect-burst.ts';
import { Ingress, type IngressTarget } from './ingress.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** A stand-in replica on loopback: answers every request with `status` (and `headers`), counting them. */
async function replica(id: string, status: number, headers: Record<string, string> = {}): Promise<IngressTarget & { seen: () => number }> {
  let seen = 0;
  const server: Server = createServer((req, res) => {
    seen++;
    req.resume().once('end', () => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ from: id })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { id, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, generation: 1, seen: () => seen };
}

async function ingressOver(targets: IngressTarget[]): Promise<string> {
  const ingress = new Ingress({ policy: 'round-robin', targets: () => targets });
  const url = await ingress.listen(0, '127.0.0.1');
  cleanups.push(() => ingress.close());
  return url;
}

async function post(url: string): Promise<{ status: number; body: string }> {
  const answer = await request(url, {
    method: 'POST', headers: { 'content-type': 'application/json', 'mcp-session-id': 'abc' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  return { status: answer.statusCode, body: await answer.body.text() };
}

describe('the lab\'s ingress', () => {
  it('a replica\'s 503 with Retry-After (it sent the request nowhere) is retried on another replica; the client sees the other\'s answer', async () => {
    const away = await replica('replica-1', 503, { 'retry-after': '1' });
    const serving = await replica('replica-2', 200);
    const url = await ingressOver([away, serving]);
    for (let i = 0; i < 4; i++) expect(await post(url)).toEqual({ status: 200, body: '{"from":"replica-2"}' });
    expect(away.seen(), 'round-robin sent some to the replica without a copy first').toBeGreaterThan(0);
  });

  it('a 503 without Retry-After, or with no other replica left, reaches the client as it is', async () => {
    const failing = await replica('replica-1', 503);
    const away = await replica('replica-2', 503, { 'retry-after': '1' });
    expect((await post(await ingressOver([failing]))).status).toBe(503);
    expect(await post(await ingressOver([away]))).toEqual({ status: 503, body: '{"from":"replica-2"}' });
  });

  it('holds a burst of 800 connections while the lab\'s loop is busy (a thousand clients starting): none times out connecting', async () => {
    const url = await ingressOver([]);
    expect(await connectedWhileBlocked(Number(new URL(url).port), 800)).toBe(800);
  });
});
