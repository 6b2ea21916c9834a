/**
 * The message of anything thrown, for a person to read: an error's own message, else the
 * value in words. Duck-typed rather than `instanceof Error`: errors from another realm (a
 * worker, a VM context) and libraries' plain `{ message }` objects count too.
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}
