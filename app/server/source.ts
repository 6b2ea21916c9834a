import type { BackendSpec } from '../pods/runtime.ts';

/** How the lab runs the backend, in words: what the UI header and reports show. */
export function sourceOf(backend: BackendSpec): string {
  switch (backend.kind) {
    case 'demo': return 'the Pinlab demo backend';
    case 'image': return `image ${backend.image}`;
    case 'command': return `command ${[backend.command, ...backend.args].map(shown).join(' ')}`;
  }
}

/** An argument as a shell would need it, quoted only when it has to be (for reading, not running). */
function shown(arg: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
