import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Latches } from './latches.ts';

export interface ToolContext {
  pod: string;
  /** The backend session id; null for sessionless (stateless) requests. */
  sessionId: () => string | null;
  latches: Latches;
}

function json(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

/** One MCP server per session: its `counter` is that session's state, lost when the pod forgets it. */
export function createDemoMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: 'pinlab-demo', version: '0.1.0' });
  let count = 0;

  server.registerTool('whoami', {
    description: 'Which pod served this call, and the backend session it belongs to.',
    inputSchema: {},
    annotations: { readOnlyHint: true },
  }, async () => json({ pod: ctx.pod, session: ctx.sessionId() }));

  server.registerTool('counter', {
    description: 'Increments and returns a per-session counter: a reset shows the session state was lost.',
    inputSchema: {},
  }, async () => json({ count: ++count, pod: ctx.pod }));

  server.registerTool('echo', {
    description: 'Returns its text.',
    inputSchema: { text: z.string().max(65536) },
    annotations: { readOnlyHint: true },
  }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));

  server.registerTool('slow', {
    description: 'Sends `steps` progress notifications over SSE, `delayMs` apart, then answers. With `waitFor`, waits after the first one until POST /latch/<waitFor> opens it.',
    inputSchema: {
      steps: z.number().int().min(1).max(100).default(5),
      delayMs: z.number().int().min(0).max(10_000).default(200),
      waitFor: z.string().regex(/^[\w-]{1,64}$/).optional(),
    },
    annotations: { readOnlyHint: true },
  }, async ({ steps, delayMs, waitFor }, extra) => {
    const token = extra._meta?.progressToken;
    for (let step = 1; step <= steps; step++) {
      if (token !== undefined) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, total: steps, message: `step ${step} of ${steps} on ${ctx.pod}` } });
      }
      if (step === 1 && waitFor) {
        const opened = await ctx.latches.wait(waitFor, 10_000);
        if (!opened) return { isError: true, content: [{ type: 'text' as const, text: `latch ${waitFor} was not opened within 10 s` }] };
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
    throw new McpError(ErrorCode.RequestTimeout, 'Request timed out');
  });

  return server;
}
