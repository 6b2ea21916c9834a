import open from 'open';

/**
 * Opens `url` in the default browser. Answers true, or why not: on Linux only where a
 * desktop session exists (a server or a container has no browser to open).
 */
export async function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<true | string> {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'no desktop here (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  try {
    const child = await open(url);
    child.on('error', () => {});
    child.unref();
    return true;
  } catch (error) {
    return `could not open a browser: ${(error as Error).message}`;
  }
}
