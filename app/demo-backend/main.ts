import type { AddressInfo } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MemoryCarts, RedisCarts, type CartStore } from './carts.ts';
import { createDemoBackend, type SessionLostStyle } from './server.ts';

// `pinlab-demo-backend`: one demo pod. Prints one JSON line when it listens, for whoever started it.
const command = new Command('pinlab-demo-backend')
  .description('The Pinlab demo MCP server (one pod), both MCP eras on one path: tools whoami, counter, slow, echo (sessions in memory); for MCP 2026-07-28 also cart.create, cart.add, cart.get (carts in memory or Redis).')
  .addOption(new Option('--port <port>', 'port to listen on (0 = any free one)').env('PORT').default(0).argParser((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${v}"`);
    return n;
  }))
  .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('127.0.0.1'))
  .addOption(new Option('--pod <name>', 'this pod\'s name').env('POD_NAME').default('pod'))
  .addOption(new Option('--path <path>', 'MCP path').env('MCP_PATH').default('/mcp'))
  .addOption(new Option('--session-lost <style>', 'how an unknown session id is answered').env('SESSION_LOST').choices(['404', '400', '32001']).default('404'))
  .addOption(new Option('--json-response', 'answer with one JSON body instead of an SSE stream').default(false))
  .addOption(new Option('--carts <store>', 'where the cart.* tools keep carts: this pod\'s memory (other pods do not know them) or a Redis every pod shares').env('CARTS').choices(['memory', 'redis']).default('memory'))
  .addOption(new Option('--redis-url <url>', 'the Redis for --carts redis').env('REDIS_URL').argParser((v) => {
    if (!/^rediss?:\/\/\S+$/.test(v)) throw new InvalidArgumentError(`expected a redis:// or rediss:// URL, got "${v}"`);
    return v;
  }))
  .exitOverride();

try {
  command.parse();
} catch {
  process.exit(2);
}
const opts = command.opts<{
  port: number; host: string; pod: string; path: string; sessionLost: SessionLostStyle; jsonResponse: boolean; carts: CartStore['kind']; redisUrl?: string;
}>();
let carts: CartStore = new MemoryCarts();
if (opts.carts === 'redis') {
  if (!opts.redisUrl) {
    process.stderr.write("pinlab-demo-backend: --carts redis needs --redis-url <url> (or REDIS_URL)\n");
    process.exit(2);
  }
  try {
    carts = await RedisCarts.connect(opts.redisUrl);
  } catch (error) {
    process.stderr.write(`pinlab-demo-backend: cannot reach the carts' Redis at ${opts.redisUrl}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
const { server } = createDemoBackend({ pod: opts.pod, path: opts.path, sessionLost: opts.sessionLost, jsonResponse: Boolean(opts.jsonResponse), carts });
server.on('error', (error) => {
  process.stderr.write(`pinlab-demo-backend: ${error.message}\n`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ event: 'listening', pod: opts.pod, host: opts.host, port, path: opts.path }) + '\n');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    void carts.close().finally(() => process.exit(0));
  });
}
