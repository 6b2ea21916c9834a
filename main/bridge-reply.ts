/**
 * The preload's answer when `ipcRenderer.invoke` itself rejects (the arguments could not be
 * cloned, no handler in main, main threw): the bridge still answers `{error}` as LabService
 * does, never a thrown exception, with Electron's "Error invoking remote method …" wrapper
 * taken off the message. Imports nothing: it is bundled into the sandboxed preload.
 */
export function replyFromRejection(error: unknown): { error: { message: string } } {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(/^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/, '');
  return { error: { message: message || 'the lab did not answer' } };
}
