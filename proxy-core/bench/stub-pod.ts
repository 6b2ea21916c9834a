// A pod that costs next to nothing: answers initialize with a session id and everything else
// with one fixed SSE event, as a Streamable HTTP server does. The profiler's pod (profile.ts),
// so that the proxy, not the pods, is what runs out of CPU. Not an MCP server: no state, no checks.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const ANSWER = 'event: message\ndata: {"result":{"content":[{"type":"text","text":"Echo: hello"}]},"jsonrpc":"2.0","id":1}\n\n';
const INITIALIZED = 'event: message\ndata: {"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"stub","version":"0"}},"jsonrpc":"2.0","id":0}\n\n';

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const body = Buffer.concat(chunks).toString();
    if (body.includes('"initialize"')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': randomUUID() }).end(INITIALIZED);
    } else if (!body.includes('"id"')) {
      res.writeHead(202).end();
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': Buffer.byteLength(ANSWER) }).end(ANSWER);
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`stub pod listening on http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`);
});
