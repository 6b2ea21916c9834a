import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

export interface TrafficOptions {
  /** The ingress URL. */
  url: string;
  clients: number;
  /** Calls per second, per client. */
  rate: number;
  /**
   * What each call is: a tool of the user's choice; else `counter` when the pods run the demo
   * backend (its per-session count is the state-loss probe); else `ping` and `tools/list`
   * in turn, which every MCP server answers.
   */
  call?: { tool: string; args: Record<string, unknown> };
  demo?: boolean;
}

/** One tool call of one simulated client, as the lab records it. */
export interface CallRecord {
  /** Epoch ms when the call ended. */
  at: number;
  client: string;
  /** The client session id the call used (null when no session could be opened). */
  sessionId: string | null;
  ok: boolean;
  latencyMs: number;
  /** HTTP status of a failed call, when the transport said one. */
  status: number | null;
  /** JSON-RPC error code of a failed call, when there was one. */
  rpcCode: number | null;
  error: string | null;
  /** What the call was: `tools/call counter`, `ping`, `tools/list`. */
  method: string;
  /** The session's counter after the call (demo backend only). */
  count: number | null;
  /** The counter went back: the session's state was lost (re-initialized on a new pod). */
  stateLost: boolean;
}

/**
 * K simulated clients on the official SDK, each with its own session, calling at a set rate
 * (see `TrafficOptions.call`). On the demo backend a counter that goes back is a state loss;
 * an error is client-visible. A client told its session is gone (404) starts a new one, as
 * spec-following clients do.
 */
export class Traffic {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly clients = new Set<Client>();

  start(options: TrafficOptions, onCall: (call: CallRecord) => void): void {
    if (this.running) throw new Error('traffic is already running: stop it first');
    this.running = true;
    this.loops = Array.from({ length: options.clients }, (_, i) => this.client(`client-${i + 1}`, options, onCall));
  }

  get active(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.running = false;
    // Closing the clients ends calls still waiting (on a paused pod, say) instead of waiting them out.
    await Promise.all([...this.clients].map((client) => client.close().catch(() => {})));
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async client(name: string, options: TrafficOptions, onCall: (call: CallRecord) => void): Promise<void> {
    const interval = 1000 / options.rate;
    // Spread the clients' first calls over one interval instead of all at once.
    await sleep(Math.random() * interval);
    let session: { client: Client; transport: StreamableHTTPClientTransport } | null = null;
    let last: number | null = null;
    let probes = 0;
    while (this.running) {
      const started = performance.now();
      const record: CallRecord = {
        at: Date.now(), client: name, sessionId: null, method: '', ok: false, latencyMs: 0, status: null, rpcCode: null, error: null, count: null, stateLost: false,
      };
      try {
        if (!session) {
          session = await this.connect(name, options.url);
          last = null;
        }
        record.sessionId = session.transport.sessionId ?? null;
        if (options.call || options.demo) {
          const tool = options.call?.tool ?? 'counter';
          record.method = `tools/call ${tool}`;
          const result = await session.client.callTool({ name: tool, arguments: options.call?.args ?? {} });
          if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.content).slice(0, 300)}`);
          if (!options.call) {
            const count = (result.structuredContent as { count?: number } | undefined)?.count ?? null;
            record.count = count;
            record.stateLost = last !== null && count !== null && count <= last;
            last = count;
          }
        } else if (probes++ % 2 === 0) {
          record.method = 'ping';
          await session.client.ping();
        } else {
          record.method = 'tools/list';
          await session.client.listTools();
        }
        record.ok = true;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        if (error instanceof StreamableHTTPError) record.status = error.code ?? null;
        if (error instanceof McpError) record.rpcCode = error.code;
        if (record.status === 404 || record.rpcCode === -32001 || !record.sessionId) {
          await this.disconnect(session);
          session = null;
        }
      }
      record.latencyMs = performance.now() - started;
      // Stamped when it ended: events then arrive in time order, and per-second series stay ordered.
      record.at = Date.now();
      if (this.running || record.ok) onCall(record);
      const wait = interval - (performance.now() - started);
      if (wait > 0 && this.running) await sleep(wait);
    }
    await this.disconnect(session);
  }

  private async connect(name: string, url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: `pinlab-${name}`, version: '0.1.0' });
    await client.connect(transport);
    this.clients.add(client);
    return { client, transport };
  }

  private async disconnect(session: { client: Client; transport: StreamableHTTPClientTransport } | null): Promise<void> {
    if (!session) return;
    this.clients.delete(session.client);
    await session.client.close().catch(() => {});
  }
}
