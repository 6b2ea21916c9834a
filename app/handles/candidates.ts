/**
 * Which strings of a tool call could be handles: the values the lab remembers from results and
 * looks for in later calls' arguments. Bounded, so that every call can carry them in its event.
 */

/** Shorter strings (pod names, "ok", small numbers as text) are too common to tell a handle by. */
export const MIN_HANDLE_LENGTH = 8;
/** Longer strings are content, not handles; and an event must stay small. */
export const MAX_HANDLE_LENGTH = 256;
/** Strings kept per call, at most. */
export const MAX_CANDIDATES = 16;

/** The distinct strings of handle length in `value` (any JSON), depth first, at most MAX_CANDIDATES. */
export function stringsIn(value: unknown, into = new Set<string>()): Set<string> {
  const walk = (node: unknown, depth: number): void => {
    if (into.size >= MAX_CANDIDATES || depth > 8) return;
    if (typeof node === 'string') {
      if (node.length >= MIN_HANDLE_LENGTH && node.length <= MAX_HANDLE_LENGTH) into.add(node);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
    } else if (node !== null && typeof node === 'object') {
      for (const item of Object.values(node)) walk(item, depth + 1);
    }
  };
  walk(value, 0);
  return into;
}

/** What a tool result carries that the detector reads: its structured content and its text blocks. */
export interface ToolResultLike {
  structuredContent?: unknown;
  content?: unknown;
}

/**
 * The strings a tool result handed back: those of its structured content, and of each text
 * block — parsed when it is JSON (servers often answer JSON as text), else the text itself.
 */
export function resultStrings(result: ToolResultLike): string[] {
  const found = stringsIn(result.structuredContent);
  const blocks = Array.isArray(result.content) ? result.content : [];
  for (const block of blocks as { type?: unknown; text?: unknown }[]) {
    if (block?.type !== 'text' || typeof block.text !== 'string') continue;
    let parsed: unknown = block.text;
    try {
      parsed = JSON.parse(block.text);
    } catch {
      // plain text: the text itself may be the handle
    }
    stringsIn(parsed, found);
  }
  return [...found];
}
