import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../config.ts';
import { startProxy } from '../run.ts';
import { connectedWhileBlocked } from '../test/connect-burst.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('the proxy\'s listener', () => {
  it('holds a burst of 800 connections while its loop is busy (Node\'s default backlog of 511 drops the rest)', async () => {
    // No pod is needed: nothing is sent, the connections only wait to be accepted.
    const running = await startProxy({ ...DEFAULTS, port: 0, backends: ['http://127.0.0.1:9/mcp'], replicaId: 'r' }, () => {});
    cleanups.push(() => running.close());
    const port = Number(new URL(running.url).port);
    expect(await connectedWhileBlocked(port, 800)).toBe(800);
  });
});
