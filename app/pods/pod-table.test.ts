import { describe, expect, it } from 'vitest';
import { PodTable, startingPod } from './pod-table.ts';
import type { PodEvent } from './runtime.ts';

function table() {
  const pods = new PodTable<{ info: ReturnType<typeof startingPod> }>();
  const events: PodEvent[] = [];
  pods.onEvent((event) => events.push(event));
  return { pods, events };
}

describe('the pod table both runtimes keep', () => {
  it('lists copies by name, pod-2 before pod-10, and names the pods it has when asked for another', () => {
    const { pods } = table();
    for (const name of ['pod-10', 'pod-2', 'pod-1']) pods.set({ info: startingPod(name, 4000, '/mcp', name) });
    const listed = pods.list();
    expect(listed.map((pod) => pod.name)).toEqual(['pod-1', 'pod-2', 'pod-10']);
    expect(listed[0]).toMatchObject({ state: 'starting', address: '127.0.0.1:4000', url: 'http://127.0.0.1:4000/mcp' });
    listed[0]!.state = 'dead';
    expect(pods.get('pod-1').info.state, 'a listed pod is a copy').toBe('starting');
    expect(() => pods.get('pod-3')).toThrow('no pod named pod-3 (pods: pod-10, pod-2, pod-1)');
  });

  it('reports a change once, and nothing for a pod a restart has replaced', () => {
    const { pods, events } = table();
    const first = { info: startingPod('pod-1', 4000, '/mcp', 'a') };
    pods.set(first);
    pods.update(first, 'dead', 'killed');
    pods.update(first, 'dead', 'container died');
    expect(events.map((e) => [e.pod, e.state, e.reason])).toEqual([['pod-1', 'dead', 'killed']]);

    const second = { info: startingPod('pod-1', 4000, '/mcp', 'b') };
    pods.set(second);
    first.info.state = 'ready';
    pods.update(first, 'dead', 'exited with code 137');
    expect(events, 'the old container\'s late death is not the new pod\'s').toHaveLength(1);
    expect(pods.byId('b')).toBe(second);
    expect(pods.byId('a')).toBeUndefined();
  });

  it('refuses a second start of a running pod, and allows one of a dead pod', () => {
    const { pods } = table();
    const pod = { info: startingPod('pod-1', 4000, '/mcp', 'a') };
    pods.set(pod);
    expect(() => pods.assertFree('pod-1')).toThrow('pod pod-1 is already running (starting)');
    pods.update(pod, 'dead', 'killed');
    expect(() => pods.assertFree('pod-1')).not.toThrow();
    expect(() => pods.assertFree('pod-2')).not.toThrow();
  });
});
