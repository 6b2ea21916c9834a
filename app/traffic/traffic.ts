import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsEra } from '../config.ts';
import { resultStrings, stringsIn } from '../handles/candidates.ts';
import { connectEraClient, eraOf, failureOf, type ClientEra, type EraClient } from './era-client.ts';

export type { ClientEra } from './era-client.ts';

export interface TrafficOptions {
  /** The ingress URL. */
  url: string;
  clients: number;
  /** Calls per second, per client. */
  rate: number;
  /**
   * What each call is: a tool of the user's choice; else, on the demo backend, `counter` for
   * a legacy client (its per-session count is the state-loss probe) and the cart tools for a
   * modern one (`cart.create`, then `cart.add` and `cart.get` with the handle it answered);
   * else `ping` (a modern client: `server/discover`) and `tools/list` in turn, which every
   * MCP server answers.
   */
  call?: { tool: string; args: Record<string, unknown> };
  demo?: boolean;
  /** The clients' era (default legacy); with `mix`, `modernShare` of them are modern (default one half). */
  clientsEra?: ClientsEra;
  modernShare?: number;
}

/** The traffic running now, as it was started (for a UI that did not start it itself). */
export interface RunningTraffic {
  clients: number;
  rate: number;
  clientsEra: ClientsEra;
  /** With `clientsEra` mix: the share of modern clients. */
  modernShare: number | null;
  /** The tool each call is and its arguments, when one was chosen (else each era's default calls). */
  call: { tool: string; args: Record<string, unknown> } | null;
}

/** One tool call of one simulated client, as the lab records it. */
export interface CallRecord {
  /** Epoch ms when the call ended. */
  at: number;
  client: string;
  /** The client session id the call used (null when no session could be opened, and for every modern call). */
  sessionId: string | null;
  ok: boolean;
  latencyMs: number;
  /** HTTP status of a failed call, when the transport said one. */
  status: number | null;
  /** JSON-RPC error code of a failed call, when there was one. */
  rpcCode: number | null;
  error: string | null;
  /** What the call was: `tools/call counter`, `tools/call cart.add`, `ping`, `tools/list`; `initialize` or `server/discover` when the client could not connect. */
  method: string;
  /** The session's counter after the call (demo backend, legacy clients only). */
  count: number | null;
  /** The counter went back: the session's state was lost (re-initialized on a new pod). */
  stateLost: boolean;
  /** The client's era. (Optional only so that events recorded before eras existed still type-check: absent means legacy.) */
  era?: ClientEra;
  /** The pod that answered, as the pod named itself (the demo's `x-pinlab-pod`); null when it did not say. */
  pod?: string | null;
  /** The call's argument strings that could be handles (app/handles/candidates.ts: bounded). */
  args?: string[];
  /** The strings its result handed back that could be handles (bounded); none for a failed call. */
  returned?: string[];
  /**
   * Set by the lab on a failed call that carried a handle minted on another pod (its
   * `handle.leak` event follows): the server's per-pod state, which no routing can fix.
   */
  handleLeak?: true;
}

/** A tool answered `isError`: a failed call, though a JSON-RPC success. */
class ToolError extends Error {}

/** What a client remembers between its calls. */
interface ClientState {
  /** The last counter value (legacy demo). */
  lastCount: number | null;
  /** Probes (ping, server/discover) and tools/list calls made (any other server). */
  probes: number;
  /** The cart a modern demo client holds: its handle, the items it put in, whether it reads next. */
  cart: { handle: string; added: number; readNext: boolean } | null;
}

/** A modern client starts a new cart after this many items: carts stay small, and new handles keep coming. */
const ITEMS_PER_CART = 10;

/**
 * K simulated clients on the official SDKs calling at a set rate (see `TrafficOptions.call`):
 * legacy ones with sessions (v1 `Client`), modern ones without (v2 `Client` speaking
 * 2026-07-28). On the demo backend a counter that goes back is a state loss; an error is
 * client-visible. A legacy client told its session is gone (404) starts a new one, as
 * spec-following clients do; a modern client that loses a cart ("unknown cart") makes a new one.
 */
export class Traffic {
  /** What runs, as started; null when nothing does. */
  private started: RunningTraffic | null = null;
  private loops: Promise<void>[] = [];
  private readonly clients = new Set<EraClient>();

  start(options: TrafficOptions, onCall: (call: CallRecord) => void): void {
    if (this.started) throw new Error('traffic is already running: stop it first');
    const era = options.clientsEra ?? 'legacy';
    const share = options.modernShare ?? 0.5;
    this.started = { clients: options.clients, rate: options.rate, clientsEra: era, modernShare: era === 'mix' ? share : null, call: options.call ?? null };
    this.loops = Array.from({ length: options.clients }, (_, i) =>
      this.client(`client-${i + 1}`, eraOf(i, options.clients, era, share), options, onCall));
  }

  get active(): boolean {
    return this.started !== null;
  }

  /** What runs now; null when nothing does. */
  get now(): RunningTraffic | null {
    return this.started;
  }

  async stop(): Promise<void> {
    this.started = null;
    // Closing the clients ends calls still waiting (on a paused pod, say) instead of waiting them out.
    await Promise.all([...this.clients].map((client) => client.close().catch(() => {})));
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async client(name: string, era: ClientEra, options: TrafficOptions, onCall: (call: CallRecord) => void): Promise<void> {
    const interval = 1000 / options.rate;
    // Spread the clients' first calls over one interval instead of all at once.
    await sleep(Math.random() * interval);
    let client: EraClient | null = null;
    const state: ClientState = { lastCount: null, probes: 0, cart: null };
    while (this.started) {
      const began = performance.now();
      const record: CallRecord = {
        at: Date.now(), client: name, sessionId: null, method: '', ok: false, latencyMs: 0, status: null, rpcCode: null, error: null,
        count: null, stateLost: false, era, pod: null, args: [], returned: [],
      };
      try {
        if (!client) {
          record.method = era === 'modern' ? 'server/discover' : 'initialize';
          client = await connectEraClient(era, name, options.url);
          this.clients.add(client);
          state.lastCount = null;
        }
        record.sessionId = client.sessionId;
        await this.callOnce(client, state, options, record);
        record.ok = true;
      } catch (error) {
        const failure = failureOf(error);
        record.error = failure.message;
        record.status = failure.status;
        record.rpcCode = failure.rpcCode;
        record.pod = client?.answeredBy ?? null;
        if (error instanceof ToolError && state.cart && /unknown cart/i.test(failure.message)) state.cart = null;
        // A legacy client whose session is gone starts a new one; a client that never connected tries again.
        if (!client || (client.era === 'legacy' && (record.status === 404 || record.rpcCode === -32001 || !record.sessionId))) {
          if (client) await this.disconnect(client);
          client = null;
        }
      }
      record.latencyMs = performance.now() - began;
      // Stamped when it ended: events then arrive in time order, and per-second series stay ordered.
      record.at = Date.now();
      if (this.started || record.ok) onCall(record);
      const wait = interval - (performance.now() - began);
      if (wait > 0 && this.started) await sleep(wait);
    }
    if (client) await this.disconnect(client);
  }

  /** One call, as `TrafficOptions.call` says; fills in what it was and what came back. Throws on failure. */
  private async callOnce(client: EraClient, state: ClientState, options: TrafficOptions, record: CallRecord): Promise<void> {
    if (!options.call && !options.demo) {
      const probe = state.probes++ % 2 === 0;
      record.method = probe ? client.probeMethod : 'tools/list';
      await (probe ? client.probe() : client.listTools());
      record.pod = client.answeredBy;
      return;
    }
    const { tool, args } = options.call ?? (client.era === 'modern' ? cartStep(state) : { tool: 'counter', args: {} });
    record.method = `tools/call ${tool}`;
    record.args = [...stringsIn(args)];
    const result = await client.callTool(tool, args);
    record.pod = client.answeredBy;
    if (result.isError) throw new ToolError(`tool error: ${errorText(result.content)}`);
    record.returned = resultStrings(result);
    if (options.call) return;
    const structured = result.structuredContent as { count?: number; handle?: string } | undefined;
    if (client.era === 'modern') return learnCart(state, tool, structured);
    const count = structured?.count ?? null;
    record.count = count;
    record.stateLost = state.lastCount !== null && count !== null && count <= state.lastCount;
    state.lastCount = count;
  }

  private async disconnect(client: EraClient): Promise<void> {
    this.clients.delete(client);
    await client.close().catch(() => {});
  }
}

/** A modern demo client's next call: a cart when it holds none (or a full one), else add and read in turn. */
function cartStep(state: ClientState): { tool: string; args: Record<string, unknown> } {
  const cart = state.cart;
  if (!cart || cart.added >= ITEMS_PER_CART) return { tool: 'cart.create', args: {} };
  if (cart.readNext) return { tool: 'cart.get', args: { handle: cart.handle } };
  return { tool: 'cart.add', args: { handle: cart.handle, item: `item-${cart.added + 1}` } };
}

/** What a successful cart call teaches its client: the new handle, or one more item in. */
function learnCart(state: ClientState, tool: string, answer: { handle?: string } | undefined): void {
  if (tool === 'cart.create') state.cart = typeof answer?.handle === 'string' ? { handle: answer.handle, added: 0, readNext: false } : null;
  else if (state.cart) {
    if (tool === 'cart.add') state.cart.added++;
    state.cart.readNext = tool === 'cart.add';
  }
}

/** A tool error's text blocks, joined (else its content as JSON), kept short. */
function errorText(content: unknown): string {
  const blocks = Array.isArray(content) ? (content as { type?: unknown; text?: unknown }[]) : [];
  const text = blocks.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => b.text as string).join(' ');
  return (text || JSON.stringify(content)).slice(0, 300);
}
