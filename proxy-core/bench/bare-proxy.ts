// `node proxy-core/bench/bare-proxy.ts <pod URL>…`: the bench's floor for a Node proxy — a
// sticky pass-through made the ordinary way (node:http server, an undici Pool per pod, the
// answer piped by a dispatch handler), pinned by the Mcp-Session-Id the pod answered with; no
// MCP logic, no recovery, no store. What pinlab-proxy costs above it is pinlab's own.
import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);
const pods = process.argv.slice(2).map((url) => new URL(url));
if (pods.length === 0) throw new Error('usage: bare-proxy.ts <pod MCP URL>…');
const pools = pods.map((pod) => new Pool(pod.origin, { bodyTimeout: 0 }));
const pinned = new Map<string, Pool>();
let next = 0;

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const session = req.headers['mcp-session-id'];
    const pool = (typeof session === 'string' && pinned.get(session)) || pools[next++ % pools.length]!;
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i]!.toLowerCase())) headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => {}, // undici tells the handler kinds apart by this one
      onResponseStart(_controller, status, answer) {
        const id = answer['mcp-session-id'];
        if (typeof id === 'string') pinned.set(id, pool);
        const out: string[] = [];
        for (const name in answer) if (!HOP_BY_HOP.has(name) || name === 'content-length') out.push(name, String(answer[name]));
        res.writeHead(status, out);
      },
      onResponseData: (_controller, chunk) => void res.write(chunk),
      onResponseEnd: () => void res.end(),
      onResponseError: (_controller, error) => void res.destroy(error),
    };
    pool.dispatch({ path: pods[0]!.pathname, method: req.method as Dispatcher.HttpMethod, headers, body: Buffer.concat(chunks) }, handler);
  });
});
process.once('SIGINT', () => process.exit(0)); // a clean exit: `node --cpu-prof` writes its profile
server.listen(0, '127.0.0.1', () => console.log(`bare proxy listening on http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`));
