import { Ajv, type ErrorObject } from 'ajv';
import type { ServerUnderTest } from './under-test.ts';

/** A call the simulated clients are to make: a tool and its arguments. */
export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
}

// As lenient as the SDK's own validator: servers' schemas come from many generators.
// Formats are not checked (the server checks them); only the shape a person can get wrong.
const ajv = new Ajv({ strict: false, validateSchema: false, validateFormats: false, allErrors: true });

/**
 * Checks a call against the server's `tools/list` before any client makes it, so that a
 * typo fails once, plainly, instead of as a client error per call. Throws an Error whose
 * message says what to fix.
 */
export function checkToolCall(call: ToolCall, server: ServerUnderTest): void {
  const tool = server.tools.find((t) => t.name === call.tool);
  const who = server.name ?? server.source;
  if (!tool) {
    const names = server.tools.map((t) => t.name);
    throw new Error(`no tool "${call.tool}" on ${who}: ${names.length ? `its tools are ${names.join(', ')}` : 'it lists no tools'}`);
  }
  let validate;
  try {
    validate = ajv.compile(tool.inputSchema);
  } catch (error) {
    throw new Error(`the input schema of "${call.tool}" on ${who} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (!validate(call.args)) {
    throw new Error(`arguments for "${call.tool}" do not match its input schema: ${describeErrors(validate.errors ?? [])}`);
  }
}

function describeErrors(errors: ErrorObject[]): string {
  return errors.map((e) => (e.instancePath ? `${e.instancePath} ${e.message}` : (e.message ?? 'invalid'))).join('; ');
}
