/** Anything that says when it closes: a socket, a server response. */
interface Closes {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Adds `item` to the set of `key` in `sets` until it closes; a set left empty goes with its
 * last item, so that keys of things long gone do not pile up.
 */
export function keepWhileOpen<K, T extends Closes>(sets: Map<K, Set<T>>, key: K, item: T): void {
  let open = sets.get(key);
  if (!open) sets.set(key, (open = new Set()));
  open.add(item);
  item.once('close', () => {
    open.delete(item);
    if (open.size === 0 && sets.get(key) === open) sets.delete(key);
  });
}
