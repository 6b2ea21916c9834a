import { describe, expect, it } from 'vitest';
import { checkServerForm, EMPTY_SERVER_FORM, parseEnvLines, type ServerForm } from './server-form.ts';

const form = (changes: Partial<ServerForm>): ServerForm => ({ ...EMPTY_SERVER_FORM, ...changes });

describe('the start panel\'s server under test', () => {
  it('sends no backend for the demo (the lab\'s default wins), and ignores the hidden fields of other kinds', () => {
    expect(checkServerForm(form({ image: 'has spaces', port: '0' }))).toEqual({ config: {}, errors: {} });
  });

  it('turns a command line into command, args, port variable, path and env', () => {
    const checked = checkServerForm(form({ kind: 'command', command: 'node "my server.js" --port {port}', portEnv: 'MCP_PORT', path: '/v1/mcp', env: 'A=1\n\n# note\nB = x=y ' }));
    expect(checked).toEqual({
      errors: {},
      config: { backend: { kind: 'command', command: 'node', args: ['my server.js', '--port', '{port}'], portEnv: 'MCP_PORT', path: '/v1/mcp', env: { A: '1', B: 'x=y' } } },
    });
  });

  it('names each bad field of a command server', () => {
    const { config, errors } = checkServerForm(form({ kind: 'command', command: 'node "x', portEnv: '1PORT', path: 'mcp', env: 'oops' }));
    expect(config.backend).toBeUndefined();
    expect(errors).toEqual({
      command: 'a double quote is not closed',
      portEnv: 'must be an environment variable name, such as PORT',
      path: 'must start with / and hold no spaces, such as /mcp',
      env: 'line 1: write KEY=value',
    });
  });

  it('checks an image server\'s image and port (1–65535, whole)', () => {
    expect(checkServerForm(form({ kind: 'image', image: 'my/server:1', port: '8080' })).config.backend).toEqual({ kind: 'image', image: 'my/server:1', port: 8080, path: '/mcp' });
    expect(checkServerForm(form({ kind: 'image' })).errors).toMatchObject({ image: expect.stringContaining('required'), port: expect.stringContaining('required') });
    for (const port of ['0', '65536', '80.5', 'http']) {
      expect(checkServerForm(form({ kind: 'image', image: 'x', port })).errors.port).toBe('must be a whole number from 1 to 65535');
    }
  });

  it('sends an external Redis URL only when it is one', () => {
    expect(checkServerForm(form({ redisUrl: ' redis://127.0.0.1:6380 ' })).config).toEqual({ redisUrl: 'redis://127.0.0.1:6380' });
    expect(checkServerForm(form({ redisUrl: 'rediss://cache.example:6380/2' })).config).toEqual({ redisUrl: 'rediss://cache.example:6380/2' });
    expect(checkServerForm(form({ redisUrl: 'http://127.0.0.1:6379' })).errors.redisUrl).toMatch(/redis:\/\/ or rediss:\/\//);
  });

  it('reads env lines, naming the line that is wrong', () => {
    expect(parseEnvLines('A=\nB=x=y')).toEqual({ env: { A: '', B: 'x=y' } });
    expect(parseEnvLines('A=1\n2B=x')).toEqual({ error: 'line 2: "2B" is not a variable name (letters, digits, _; not first a digit)' });
  });
});
