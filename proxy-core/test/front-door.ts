import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch, request, type buildConnector } from 'undici';
import { Service } from '../upstream/service.ts';

/**
 * A round-robin in front of replicas, as a Kubernetes Service is: each new connection is dialled
 * straight to the next target whose readiness probe (`GET /readyz`, every `probeMs`) last passed
 * — chosen at dial time, as kube-proxy's DNAT does, with nothing relaying the bytes (a relay would
 * add a gap between an answer's last bytes and its connection's close that kube-proxy does not
 * have). A connection stays with its target until one side closes it; a target that refuses it
 * is not retried. Clients use it through `fetch` (the SDK transport's option) or `dispatcher`.
 */
export interface FrontDoor {
  /** The MCP URL clients use (its host is a name for the front door; it is never resolved). */
  url: string;
  fetch: FetchLike;
  dispatcher: Agent;
  /** An undici `connect` option dialling through the front door, for a connection of one's own. */
  connect: buildConnector.connector;
  /** Connections dialled to the target on `port` so far. */
  connections(port: number): number;
  /** Whether the target on `port` passed its last probe. */
  isReady(port: number): boolean;
  close(): Promise<void>;
}

export async function startFrontDoor(targets: number[], probeMs = 50): Promise<FrontDoor> {
  const ready = new Map(targets.map((port) => [port, false]));
  const dialled = new Map<number, number>();
  // The proxy's own model of a Service: a pod chosen when a connection is dialled, passing over those not ready.
  const service = new Service(targets.map((port) => `http://127.0.0.1:${port}/mcp`));
  service.setHealth((pod) => ready.get(portOf(pod)) ?? false);
  const connect = service.connector(3000, (_socket, pod) => dialled.set(portOf(pod), (dialled.get(portOf(pod)) ?? 0) + 1));
  const dispatcher = new Agent({ connect });
  let closed = false;
  const probe = async (port: number) => {
    try {
      // A connection of its own each time (reset), as kubelet's probes: nothing kept alive holds a draining replica.
      const response = await request(`http://127.0.0.1:${port}/readyz`, { reset: true, headersTimeout: 1000, bodyTimeout: 1000 });
      await response.body.dump();
      ready.set(port, response.statusCode === 200);
    } catch {
      ready.set(port, false);
    }
  };
  await Promise.all(targets.map(probe));
  const probing = (async () => {
    while (!closed) {
      await new Promise((resolve) => setTimeout(resolve, probeMs));
      await Promise.all(targets.map(probe));
    }
  })();
  return {
    url: 'http://front-door/mcp',
    fetch: ((url: string | URL, init?: RequestInit) => fetch(url, { ...init, dispatcher } as Parameters<typeof fetch>[1])) as unknown as FetchLike,
    dispatcher,
    connect,
    connections: (port) => dialled.get(port) ?? 0,
    isReady: (port) => ready.get(port) ?? false,
    async close() {
      closed = true;
      await probing;
      await dispatcher.destroy();
    },
  };
}

function portOf(pod: string): number {
  return Number(pod.slice(pod.lastIndexOf(':') + 1));
}
