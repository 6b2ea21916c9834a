import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { BodyTap } from './http/relay.ts';
import { isObject, messagesOf } from './jsonrpc.ts';

/**
 * What is sent again when a request's fate is unknown (a pod stopped answering, or reset the
 * connection after the request was written): `safe` replays reads and tools annotated
 * read-only or idempotent; `all` replays everything; `none` nothing.
 */
export type ReplayPolicy = 'safe' | 'all' | 'none';
export const REPLAY_POLICIES: readonly ReplayPolicy[] = ['safe', 'all', 'none'];

/** Methods that change nothing on the server: repeating one is harmless. */
const READS = new Set(['ping', 'resources/read', 'prompts/get', 'completion/complete']);

function isRead(method: string): boolean {
  return READS.has(method) || method.endsWith('/list');
}

/** A tools/list answer with more tools than this is learned only in part. */
const MAX_TOOLS_PER_POD = 10_000;

/**
 * Per pod, which tools are safe to replay: those a `tools/list` answer that passed through
 * this proxy annotated `readOnlyHint` or `idempotentHint`. A tool never listed is unsafe.
 */
export class ToolHints {
  private readonly byPod = new Map<string, Map<string, boolean>>();

  /** Learns from the messages of an answer `pod` sent to a tools/list (other messages are ignored). */
  learn(pod: string, messages: readonly Record<string, unknown>[]): void {
    for (const message of messages) {
      const result = message.result;
      if (!isObject(result) || !Array.isArray(result.tools)) continue;
      let tools = this.byPod.get(pod);
      if (!tools) this.byPod.set(pod, (tools = new Map()));
      for (const tool of result.tools as unknown[]) {
        if (!isObject(tool) || typeof tool.name !== 'string') continue;
        if (tools.size >= MAX_TOOLS_PER_POD && !tools.has(tool.name)) continue;
        const hints = isObject(tool.annotations) ? tool.annotations : {};
        tools.set(tool.name, hints.readOnlyHint === true || hints.idempotentHint === true);
      }
    }
  }

  safe(pod: string, tool: string): boolean {
    return this.byPod.get(pod)?.get(tool) === true;
  }

  /** Keeps only the pods named (the rest left the service). */
  keep(pods: ReadonlySet<string>): void {
    for (const pod of this.byPod.keys()) if (!pods.has(pod)) this.byPod.delete(pod);
  }
}

/**
 * May this request be sent again, its first attempt's fate unknown? Under `safe`: a GET (it
 * opens a stream), or a POST whose every message is a read, a call of a tool `hints` know
 * as safe on `pod`, or `notifications/initialized` (the handshake's last step: sending it
 * twice changes nothing, and a client whose handshake fails abandons its session). Other
 * notifications and responses are not safe.
 */
export function replaySafe(policy: ReplayPolicy, httpMethod: string, body: Buffer | null, pod: string, hints: ToolHints): boolean {
  if (policy !== 'safe') return policy === 'all';
  if (httpMethod === 'GET') return true;
  if (httpMethod !== 'POST') return false;
  const messages = messagesOf(body);
  if (!messages || messages.length === 0) return false;
  return messages.every((m) => {
    if (m.method === 'notifications/initialized') return true;
    if (typeof m.method !== 'string' || !('id' in m)) return false;
    if (isRead(m.method)) return true;
    const params = isObject(m.params) ? m.params : {};
    return m.method === 'tools/call' && typeof params.name === 'string' && hints.safe(pod, params.name);
  });
}

/** A request's JSON-RPC method for events (`tools/call counter`), `batch` for a batch, null when not JSON-RPC. */
export function rpcMethodOf(body: Buffer | null): string | null {
  const messages = messagesOf(body);
  if (!messages || messages.length === 0) return null;
  if (messages.length > 1 || body?.[0] === 0x5b) return 'batch';
  const [m] = messages as [Record<string, unknown>];
  if (typeof m.method !== 'string') return null;
  const params = isObject(m.params) ? m.params : {};
  return m.method === 'tools/call' && typeof params.name === 'string' ? `tools/call ${params.name}` : m.method;
}

const TOOLS_LIST = Buffer.from('"tools/list"');

/** Whether a request body may be a tools/list, whose answer should be tapped (a byte search, no parse). */
export function mayListTools(body: Buffer | null): boolean {
  return body !== null && body.indexOf(TOOLS_LIST) !== -1;
}

/** The most of one answer (JSON) or one SSE event a tap holds to parse; larger ones are not learned from. */
const TAP_LIMIT = 4 * 1024 * 1024;

/**
 * Reads the JSON-RPC messages of an answer as it streams past (JSON, or SSE event by event)
 * and hands them on. The stream itself is never held back: the tap keeps only the text of the
 * one message it is parsing.
 */
export class MessageTap implements BodyTap {
  private mode: 'json' | 'sse' | 'off' = 'off';
  private readonly decoder = new StringDecoder('utf8');
  /** JSON: the body so far. SSE: the line not yet ended. */
  private text = '';
  /** SSE: the current event's data. */
  private eventData = '';
  private readonly onMessages: (messages: Record<string, unknown>[]) => void;

  constructor(onMessages: (messages: Record<string, unknown>[]) => void) {
    this.onMessages = onMessages;
  }

  start(status: number, headers: IncomingHttpHeaders): void {
    const type = String(headers['content-type'] ?? '');
    if (status !== 200) this.mode = 'off';
    else if (type.startsWith('text/event-stream')) this.mode = 'sse';
    else if (type.startsWith('application/json')) this.mode = 'json';
  }

  data(chunk: Buffer): void {
    if (this.mode === 'off') return;
    const text = this.decoder.write(chunk);
    if (this.mode === 'json') {
      this.text += text;
      if (this.text.length > TAP_LIMIT) this.stop();
      return;
    }
    const lines = (this.text + text).split('\n');
    this.text = lines.pop() ?? '';
    for (const raw of lines) this.line(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (this.text.length + this.eventData.length > TAP_LIMIT) this.stop();
  }

  end(): void {
    if (this.mode === 'json') this.emit(this.text + this.decoder.end());
    else if (this.mode === 'sse') {
      if (this.text) this.line(this.text);
      this.line('');
    }
    this.stop();
  }

  private line(line: string): void {
    if (line === '') {
      const data = this.eventData;
      this.eventData = '';
      if (data) this.emit(data);
    } else if (line.startsWith('data:')) {
      const value = line.slice(line[5] === ' ' ? 6 : 5);
      this.eventData = this.eventData ? `${this.eventData}\n${value}` : value;
    }
  }

  private emit(text: string): void {
    const messages = messagesOf(text);
    if (messages) this.onMessages(messages);
  }

  private stop(): void {
    this.mode = 'off';
    this.text = '';
    this.eventData = '';
  }
}
