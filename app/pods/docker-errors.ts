/** The HTTP status of a failed Docker engine call (dockerode's `statusCode`): 404 missing, 409 conflict. */
export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}
