import { describe, expect, it } from 'vitest';
import { freePort } from '../net/free-port.ts';
import { connectEraClient, failureOf } from './era-client.ts';

describe('a simulated client\'s failure', () => {
  it('names what failed under `fetch failed` (here: nothing listens), for both eras', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    for (const era of ['legacy', 'modern'] as const) {
      const error = await connectEraClient(era, 'client-1', url).then(() => null, (e: unknown) => e);
      expect(error, era).not.toBeNull();
      expect(failureOf(error).message, era).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
    }
  });
});
