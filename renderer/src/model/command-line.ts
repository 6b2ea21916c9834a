/** A command line split into the program and its arguments, or why it cannot be. */
export type SplitCommand = { command: string; args: string[] } | { error: string };

/**
 * Splits a command line as a POSIX shell splits words, and nothing more: the lab runs the
 * program itself (no shell), so there is no expansion of `$VAR`, `~` or globs. Whitespace
 * separates words; '…' keeps everything literally; "…" keeps everything but `\"` and `\\`;
 * outside quotes a backslash keeps the next character literally.
 */
export function splitCommandLine(line: string): SplitCommand {
  const words: string[] = [];
  let word = '';
  // A word exists once anything was written to it, even an empty quoted string ('').
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 === line.length) return { error: 'ends with a lone backslash' };
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return { error: `a ${quote === '"' ? 'double' : 'single'} quote is not closed` };
  if (inWord) words.push(word);
  const [command, ...args] = words;
  if (!command) return { error: 'required: the program to run and its arguments' };
  return { command, args };
}
