import type { ToolInfo } from '../../../app/server/under-test.ts';

/** One JSON Schema property, as far as the picker reads it. */
interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
}

function properties(schema: Record<string, unknown>): Record<string, PropertySchema> {
  const props = schema.properties;
  return props && typeof props === 'object' ? (props as Record<string, PropertySchema>) : {};
}

/** The names a tool's input schema requires, in its order. */
export function requiredOf(schema: Record<string, unknown>): string[] {
  return Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : [];
}

function typeOf(prop: PropertySchema | undefined): string {
  if (!prop) return 'any';
  if (prop.enum) return prop.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(prop.type)) return prop.type.join(' | ');
  return prop.type ?? 'any';
}

/** A value of the property's kind to start from: its default, const, first enum value or example, else an empty one. */
function placeholder(prop: PropertySchema | undefined): unknown {
  if (!prop) return null;
  if (prop.default !== undefined) return prop.default;
  if (prop.const !== undefined) return prop.const;
  if (prop.enum?.length) return prop.enum[0];
  if (prop.examples?.length) return prop.examples[0];
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  switch (type) {
    case 'string': return '';
    case 'number': case 'integer': return 0;
    case 'boolean': return false;
    case 'array': return [];
    case 'object': return {};
    default: return null;
  }
}

/** Arguments to start editing from: each required property with a placeholder of its type. */
export function placeholderArgs(tool: Pick<ToolInfo, 'inputSchema'>): Record<string, unknown> {
  const props = properties(tool.inputSchema);
  return Object.fromEntries(requiredOf(tool.inputSchema).map((name) => [name, placeholder(props[name])]));
}

/** `message: string, count: integer` — what the schema requires, in a line; "no required arguments" when nothing. */
export function requiredSummary(tool: Pick<ToolInfo, 'inputSchema'>): string {
  const props = properties(tool.inputSchema);
  const required = requiredOf(tool.inputSchema);
  if (!required.length) return 'no required arguments';
  return `requires ${required.map((name) => `${name}: ${typeOf(props[name])}`).join(', ')}`;
}

/** The arguments field's text as a JSON object, or why it is not one. */
export function parseArgs(text: string): { args: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() || '{}');
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'must be a JSON object, such as {"message": "hi"}' };
  return { args: value as Record<string, unknown> };
}
