/** How much of a pod's output a start failure carries. */
export const FAILURE_OUTPUT_LINES = 20;

/**
 * Why a pod did not start, with the last lines of its output: a bare "timed out" tells the
 * user nothing about their server, its own last words usually do.
 */
export function startFailure(pod: string, reason: string, output: string, cause?: unknown): Error {
  const lines = output.replace(/\n+$/, '').split('\n').slice(-FAILURE_OUTPUT_LINES);
  const tail = output.trim() ? `\nits last ${lines.length} line(s) of output:\n${lines.join('\n')}` : '\nit printed nothing';
  return new Error(`pod ${pod} did not start: ${reason}${tail}`, { cause });
}
