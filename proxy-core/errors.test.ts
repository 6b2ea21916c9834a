import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { messageOf } from './errors.ts';

describe('messageOf', () => {
  it('gives an error\'s own message, from this realm or another, and a plain { message } object\'s', () => {
    expect(messageOf(new TypeError('bad port'))).toBe('bad port');
    expect(messageOf(runInNewContext('new Error("from a VM context")'))).toBe('from a VM context');
    expect(messageOf({ message: 'HTTP 404', statusCode: 404 })).toBe('HTTP 404');
  });

  it('puts anything else thrown into words', () => {
    expect(messageOf('just a string')).toBe('just a string');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
    expect(messageOf({ message: 7 })).toBe('[object Object]');
  });
});
