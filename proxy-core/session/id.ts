import { createHash, randomBytes } from 'node:crypto';

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

/**
 * A short, stable tag for a client session id in logs and error messages. The id itself acts
 * as a bearer token (whoever holds it continues the session), so it is never written whole:
 * the tag is a hash, enough to match lines of one session and nothing more.
 */
export function sessionTag(id: string): string {
  return 's-' + createHash('sha256').update(id).digest('base64url').slice(0, 10);
}
