import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer, ProtocolError, type CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Cart, CartStore } from './carts.ts';
import type { Latches } from './latches.ts';

/** Which revision a server instance speaks: `legacy` (initialize, sessions) or `modern` (2026-07-28, sessionless). */
export type Era = 'legacy' | 'modern';

export interface ToolContext {
  pod: string;
  era: Era;
  latches: Latches;
  carts: CartStore;
}

/** JSON-RPC -32001: what the SDK answers for a request that timed out upstream. */
const REQUEST_TIMEOUT = -32001;

function json(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/**
 * One MCP server per legacy session (its `counter` is that session's state, lost when the pod
 * forgets it) or per modern request (no state of its own: the `cart.*` tools keep theirs behind
 * a handle, in `ctx.carts`). The legacy era's tools are exactly the 2025 demo's.
 */
export function createDemoMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: 'pinlab-demo', version: '0.1.0' });
  let count = 0;

  server.registerTool('whoami', {
    description: 'Which pod served this call, and the backend session it belongs to.',
    inputSchema: z.object({}),
    annotations: { readOnlyHint: true },
  }, async (_args, extra) => json({ pod: ctx.pod, session: extra.sessionId ?? null }));

  server.registerTool('counter', {
    description: 'Increments and returns a per-session counter: a reset shows the session state was lost.',
    inputSchema: z.object({}),
  }, async () => json({ count: ++count, pod: ctx.pod }));

  server.registerTool('echo', {
    description: 'Returns its text.',
    inputSchema: z.object({ text: z.string().max(65536) }),
    annotations: { readOnlyHint: true },
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));

  server.registerTool('slow', {
    description: 'Sends `steps` progress notifications over SSE, `delayMs` apart, then answers. With `waitFor`, waits after the first one until POST /latch/<waitFor> opens it.',
    inputSchema: z.object({
      steps: z.number().int().min(1).max(100).default(5),
      delayMs: z.number().int().min(0).max(10_000).default(200),
      waitFor: z.string().regex(/^[\w-]{1,64}$/).optional(),
    }),
    annotations: { readOnlyHint: true },
  }, async ({ steps, delayMs, waitFor }, extra) => {
    const token = extra.mcpReq._meta?.progressToken;
    for (let step = 1; step <= steps; step++) {
      if (token !== undefined) {
        await extra.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: step, total: steps, message: `step ${step} of ${steps} on ${ctx.pod}` } });
      }
      if (step === 1 && waitFor) {
        const opened = await ctx.latches.wait(waitFor, 10_000);
        if (!opened) return { isError: true, content: [{ type: 'text', text: `latch ${waitFor} was not opened within 10 s` }] };
      }
      if (step < steps) await sleep(delayMs);
    }
    return json({ steps, pod: ctx.pod });
  });

  // A read that times out upstream: what the SDK answers as JSON-RPC -32001, on a session that
  // is alive and well (a proxy must not take it for a lost session).
  server.registerResource('upstream-timeout', 'pinlab://upstream-timeout', {
    description: 'Always fails with JSON-RPC -32001 "Request timed out".',
  }, async () => {
    throw new ProtocolError(REQUEST_TIMEOUT, 'Request timed out');
  });

  if (ctx.era === 'modern') registerCartTools(server, ctx);
  return server;
}

/** What a cart tool answers for a handle this pod's store does not know: the modern era's "session not found". */
function unknownCart(ctx: ToolContext, handle: string): CallToolResult {
  const where = ctx.carts.kind === 'memory' ? `carts live in each pod's memory, and ${ctx.pod} never minted it` : 'it is not in the shared store (expired or flushed)';
  return { isError: true, content: [{ type: 'text', text: `unknown cart ${handle} on ${ctx.pod}: ${where}` }] };
}

function cartAnswer(ctx: ToolContext, cart: Cart): CallToolResult {
  return json({ handle: cart.handle, items: cart.items, mintedOn: cart.mintedOn, pod: ctx.pod });
}

const handle = z.string().min(1).max(128).describe('the handle cart.create answered');

/**
 * The handle-based tools of the sessionless era: `cart.create` mints a handle, `cart.add` and
 * `cart.get` take it back. Whether another pod knows it depends on where `ctx.carts` keeps carts.
 */
function registerCartTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool('cart.create', {
    description: 'Creates an empty cart and answers its handle: pass it to cart.add and cart.get.',
    inputSchema: z.object({}),
  }, async () => cartAnswer(ctx, await ctx.carts.create(ctx.pod)));

  server.registerTool('cart.add', {
    description: 'Adds an item to the cart with this handle and answers the cart.',
    inputSchema: z.object({ handle, item: z.string().min(1).max(256) }),
  }, async ({ handle, item }) => {
    const cart = await ctx.carts.add(handle, item);
    return cart ? cartAnswer(ctx, cart) : unknownCart(ctx, handle);
  });

  server.registerTool('cart.get', {
    description: 'Answers the cart with this handle.',
    inputSchema: z.object({ handle }),
    annotations: { readOnlyHint: true },
  }, async ({ handle }) => {
    const cart = await ctx.carts.get(handle);
    return cart ? cartAnswer(ctx, cart) : unknownCart(ctx, handle);
  });
}
