import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChild, spawnNode } from '../../proxy-core/test/processes.ts';
import { freePort } from '../net/free-port.ts';
import { identifyServer } from './identify.ts';
import { checkToolCall } from './tool-args.ts';
import type { ServerUnderTest } from './under-test.ts';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';

let child: ChildProcess;
let everything: ServerUnderTest;

// The schemas are the reference server's own, as its tools/list sends them.
beforeAll(async () => {
  const port = await freePort();
  ({ child } = await spawnNode(EVERYTHING, ['streamableHttp'], /listening on port/, { PORT: String(port) }));
  everything = await identifyServer(`http://127.0.0.1:${port}/mcp`, { kind: 'command', command: 'node', args: [EVERYTHING, 'streamableHttp'], portEnv: 'PORT', path: '/mcp' });
  expect(everything.error).toBeNull();
});

afterAll(async () => {
  await killChild(child);
});

describe('checkToolCall', () => {
  it('passes arguments that match the tool\'s input schema', () => {
    expect(() => checkToolCall({ tool: 'echo', args: { message: 'hi' } }, everything)).not.toThrow();
    expect(() => checkToolCall({ tool: 'get-sum', args: { a: 1, b: 2.5 } }, everything)).not.toThrow();
  });

  it('names the server and its tools when the tool is not there', () => {
    let message = '';
    try {
      checkToolCall({ tool: 'ehco', args: {} }, everything);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^no tool "ehco" on mcp-servers\/everything: its tools are echo, .*get-sum/);
    expect(message.split(', ')).toHaveLength(everything.tools.length);
  });

  it('says which argument is wrong, and how', () => {
    expect(() => checkToolCall({ tool: 'echo', args: { message: 42 } }, everything))
      .toThrow('arguments for "echo" do not match its input schema: /message must be string');
    expect(() => checkToolCall({ tool: 'get-sum', args: { a: 1 } }, everything))
      .toThrow('arguments for "get-sum" do not match its input schema: must have required property \'b\'');
    expect(() => checkToolCall({ tool: 'get-sum', args: { a: 'one', b: 'two' } }, everything))
      .toThrow('arguments for "get-sum" do not match its input schema: /a must be number; /b must be number');
  });

  it('says so when a server lists no tools', () => {
    expect(() => checkToolCall({ tool: 'echo', args: {} }, { ...everything, name: null, tools: [] }))
      .toThrow('no tool "echo" on command node node_modules/@modelcontextprotocol/server-everything/dist/index.js streamableHttp: it lists no tools');
  });
});
