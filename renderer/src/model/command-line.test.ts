import { describe, expect, it } from 'vitest';
import { splitCommandLine } from './command-line.ts';

describe('splitCommandLine', () => {
  it('splits on any run of whitespace, leading and trailing included', () => {
    expect(splitCommandLine('  node   dist/index.js\tstreamableHttp  ')).toEqual({ command: 'node', args: ['dist/index.js', 'streamableHttp'] });
  });

  it('keeps quoted spaces, and the empty quoted word', () => {
    expect(splitCommandLine(`python -c 'print("a b")' "x y" ''`)).toEqual({ command: 'python', args: ['-c', 'print("a b")', 'x y', ''] });
  });

  it('joins quoted and unquoted pieces of one word', () => {
    expect(splitCommandLine(`--name="my server"x 'a'"b"c`)).toEqual({ command: '--name=my serverx', args: ['abc'] });
  });

  it('takes a backslash outside quotes, and \\" or \\\\ inside double quotes, as escapes; nothing inside single quotes', () => {
    expect(splitCommandLine(String.raw`run a\ b "c\"d" "e\\f" "g\h" 'i\j'`)).toEqual({ command: 'run', args: ['a b', 'c"d', String.raw`e\f`, String.raw`g\h`, String.raw`i\j`] });
  });

  it('expands nothing: variables, ~ and {port} stay as written', () => {
    expect(splitCommandLine('server --port {port} --home ~ $HOME "$HOME"')).toEqual({ command: 'server', args: ['--port', '{port}', '--home', '~', '$HOME', '$HOME'] });
  });

  it('says what is wrong with an unclosed quote, a trailing backslash, or no program', () => {
    expect(splitCommandLine(`node "index.js`)).toEqual({ error: 'a double quote is not closed' });
    expect(splitCommandLine(`node 'index.js`)).toEqual({ error: 'a single quote is not closed' });
    expect(splitCommandLine('node \\')).toEqual({ error: 'ends with a lone backslash' });
    expect(splitCommandLine('   ')).toMatchObject({ error: expect.stringContaining('required') });
  });
});
