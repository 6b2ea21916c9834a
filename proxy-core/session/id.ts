import { randomBytes } from 'node:crypto';

/** 16 bytes from the CSPRNG (128 bits), base64url: 22 characters. */
export function mintSessionId(): string {
  return randomBytes(16).toString('base64url');
}

// Ids this proxy mints, and nothing else: a header that does not match is an unknown session
// and never reaches the store, so nothing a client sends can form a key outside the prefix.
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}
