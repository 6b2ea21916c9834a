/** A tool as the server under test lists it (`tools/list`): what the UI's picker and the argument check need. */
export interface ToolInfo {
  name: string;
  title?: string;
  description?: string;
  /** JSON Schema of the tool's arguments. */
  inputSchema: Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean; idempotentHint?: boolean; destructiveHint?: boolean; openWorldHint?: boolean };
}

/** The MCP server the lab's pods run, as the lab found it: shown in the UI header and recorded in reports. */
export interface ServerUnderTest {
  kind: 'demo' | 'image' | 'command';
  /** How the lab runs it, in words: `the Pinlab demo backend`, `image my/server:1`, `command node server.js`. */
  source: string;
  /** The image's id (`sha256:…`) for an image backend; null otherwise. */
  digest: string | null;
  /** `serverInfo` from its `initialize` answer; null when no pod answered it. */
  name: string | null;
  version: string | null;
  protocolVersion: string | null;
  /** Whether `initialize` was answered with an `Mcp-Session-Id`: false for a stateless server. */
  sessions: boolean | null;
  tools: ToolInfo[];
  /** Why the identity or the tools could not be read, when they could not. */
  error: string | null;
}
