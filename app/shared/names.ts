import type { LabEvent } from '../events.ts';
import type { PodView } from '../state/snapshot.ts';

/** The pod at an address: a live one first (a restarted pod keeps its address), else the dead one that had it. */
export function podNameAt(pods: Record<string, PodView>, address: string | null | undefined): string | undefined {
  if (!address) return undefined;
  let dead: string | undefined;
  for (const name in pods) {
    const pod = pods[name]!;
    if (pod.address !== address) continue;
    if (pod.state !== 'dead') return name;
    dead ??= name;
  }
  return dead;
}

/** A pod's name when known, else its address as the proxy reported it. */
export function podLabel(pods: Record<string, PodView>, address: string | null | undefined): string {
  return podNameAt(pods, address) ?? address ?? '—';
}

/** The client session an event is about, if any. */
export function sessionOf(event: LabEvent): string | null {
  return 'sessionId' in event ? event.sessionId : null;
}

/** `http://127.0.0.1:3000/mcp` → `127.0.0.1:3000`: endpoints are URLs, pins are addresses. */
export function addressOfUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Client session ids are long random strings: six characters tell them apart on screen. */
export function shortId(id: string | null | undefined, length = 6): string {
  if (!id) return '—';
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id;
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** `pod-10` after `pod-9`. (One collator: `localeCompare` with options builds one per call.) */
export function byNumber(a: string, b: string): number {
  return collator.compare(a, b);
}
