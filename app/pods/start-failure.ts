import { messageOf } from '../../proxy-core/errors.ts';

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

/**
 * A pod that never answered MCP at `url`: it ended first (`ended`: "exited with code 1",
 * "its container exited with code 1"), or the wait for its answer failed (`cause`).
 */
export function notReady(pod: string, url: string, ended: string | null, output: string, cause: unknown): Error {
  return startFailure(pod, ended ? `${ended} before it answered MCP at ${url}` : messageOf(cause), output, cause);
}
