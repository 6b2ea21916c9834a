import { describe, expect, it } from 'vitest';
import { parseArgs, placeholderArgs, requiredSummary } from './tool-args.ts';

const schema = {
  type: 'object',
  properties: {
    message: { type: 'string' },
    times: { type: 'integer' },
    loud: { type: 'boolean' },
    mode: { type: 'string', enum: ['fast', 'slow'] },
    tags: { type: 'array' },
    level: { type: 'number', default: 3 },
    note: { type: 'string' },
  },
  required: ['message', 'times', 'loud', 'mode', 'tags', 'level'],
};

describe('tool arguments', () => {
  it('prefills each required property with a placeholder of its type (default and enum first), and leaves optional ones out', () => {
    expect(placeholderArgs({ inputSchema: schema })).toEqual({ message: '', times: 0, loud: false, mode: 'fast', tags: [], level: 3 });
    expect(placeholderArgs({ inputSchema: { type: 'object' } })).toEqual({});
  });

  it('sums up the required properties with their types', () => {
    expect(requiredSummary({ inputSchema: schema })).toBe('requires message: string, times: integer, loud: boolean, mode: "fast" | "slow", tags: array, level: number');
    expect(requiredSummary({ inputSchema: { type: 'object', properties: { a: { type: 'string' } } } })).toBe('no required arguments');
  });

  it('parses a JSON object, takes an empty field as {}, and says why anything else is refused', () => {
    expect(parseArgs('{"message":"hi"}')).toEqual({ args: { message: 'hi' } });
    expect(parseArgs('  ')).toEqual({ args: {} });
    expect(parseArgs('{"message":')).toMatchObject({ error: expect.stringMatching(/^not JSON: /) });
    expect(parseArgs('["hi"]')).toEqual({ error: 'must be a JSON object, such as {"message": "hi"}' });
    expect(parseArgs('null')).toMatchObject({ error: expect.stringContaining('JSON object') });
  });
});
