import type { LabEvent } from '../events.ts';

/** A handle minted on one pod, passed to a call that landed on another pod and failed. */
export interface HandleLeak {
  /** Epoch ms the failing call ended. */
  at: number;
  handle: string;
  /** The pod whose tool result handed the handle out (a pod name where the lab knows it, else its address). */
  mintedOn: string;
  /** The pod the failing call landed on. */
  usedOn: string;
  /** The failing call's error, as its client saw it. */
  error: string;
  client: string;
  /** `tools/call cart.add`. */
  method: string;
  /** Epoch ms the handle was handed out. */
  mintedAt: number;
}

type Call = Extract<LabEvent, { type: 'traffic.call' }>;

/** What the proxy records as the pod of a request the service routed: no pod at all. */
const SERVICE_POD = 'service';

/** Handles remembered at most: the oldest are forgotten first. */
const MAX_REMEMBERED = 20_000;

/**
 * The handle-leak detector, for any server, fed the lab's events one by one (pure: no I/O, no
 * clock). It remembers the strings a successful tool call got back from pod A (`returned`);
 * a later call that carries one of them as an argument (`args`), lands on pod B ≠ A and fails
 * — a JSON-RPC error or `isError` — is a handle leak: the modern era's "session not found".
 *
 * Which pod a call landed on: the pod's own answer when the server names itself (the demo's
 * `x-pinlab-pod` header, read by the simulated clients into `pod`); else, for a call in a
 * session, the pod the proxy pinned that session to (`session.created`, `recovery.done`).
 * A sessionless call on a server that does not name its pod lands on a pod nobody can name:
 * the proxy records it as `service`. Such calls are never counted.
 */
export class HandleLeakDetector {
  private readonly minted = new Map<string, { pod: string; at: number }>();
  /** Client session id → the pod address the proxy pinned it to. */
  private readonly pinned = new Map<string, string>();
  /** Pod address → pod name, from the lab's own pod events. */
  private readonly names = new Map<string, string>();
  private count = 0;

  /** Handle leaks seen so far. */
  get leaks(): number {
    return this.count;
  }

  /** Takes one event; answers the leak it shows, if it shows one. */
  observe(event: LabEvent): HandleLeak | null {
    switch (event.type) {
      case 'pod.changed':
        if (event.address) this.names.set(event.address, event.pod);
        return null;
      case 'session.created':
        this.pinned.set(event.sessionId, event.pod);
        return null;
      case 'recovery.done':
        this.pinned.set(event.sessionId, event.toPod);
        return null;
      case 'session.deleted':
        this.pinned.delete(event.sessionId);
        return null;
      case 'traffic.call':
        return this.call(event);
      default:
        return null;
    }
  }

  private call(call: Call): HandleLeak | null {
    const pod = this.podOf(call);
    if (pod === null) return null;
    if (call.ok) {
      // The first pod to hand a value out minted it: another pod returning it later (shared carts) is no new mint.
      for (const value of call.returned ?? []) {
        if (!this.minted.has(value)) this.remember(value, { pod, at: call.at });
      }
      return null;
    }
    for (const value of call.args ?? []) {
      const minted = this.minted.get(value);
      if (!minted || minted.pod === pod) continue;
      this.count++;
      return {
        at: call.at, handle: value, mintedOn: minted.pod, usedOn: pod, error: call.error ?? 'unknown error',
        client: call.client, method: call.method, mintedAt: minted.at,
      };
    }
    return null;
  }

  private podOf(call: Call): string | null {
    const address = call.pod ?? (call.sessionId ? this.pinned.get(call.sessionId) : undefined);
    if (!address || address === SERVICE_POD) return null;
    return this.names.get(address) ?? address;
  }

  private remember(value: string, minted: { pod: string; at: number }): void {
    if (this.minted.size >= MAX_REMEMBERED) this.minted.delete(this.minted.keys().next().value!);
    this.minted.set(value, minted);
  }
}

/** Every handle leak in a lab's events, found afresh (a report or a test of exported events). */
export function findHandleLeaks(events: readonly LabEvent[]): HandleLeak[] {
  const detector = new HandleLeakDetector();
  const leaks: HandleLeak[] = [];
  for (const event of events) {
    const leak = detector.observe(event);
    if (leak) leaks.push(leak);
  }
  return leaks;
}

/**
 * The handle leaks a verdict counts: the lab's `handle.leak` events among `events` — the
 * same ones the timeline tells, so the count and the stories agree over any slice of events.
 */
export function handleLeaksOf(events: readonly LabEvent[]): number {
  let leaks = 0;
  for (const event of events) if (event.type === 'handle.leak') leaks++;
  return leaks;
}
