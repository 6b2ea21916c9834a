/**
 * What a key prefix may be: every key the proxy writes starts with it (`<prefix>session:<id>`),
 * so it holds only characters that need no quoting, and is short.
 */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;

/** The rule of `KEY_PREFIX_PATTERN`, in words. */
export const KEY_PREFIX_RULE = 'letters, digits and : _ . - (at most 64)';
