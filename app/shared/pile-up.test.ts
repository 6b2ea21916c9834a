import { describe, expect, it } from 'vitest';
import { PILE_UP } from '../config.ts';
import type { LabEvent } from '../events.ts';
import { reduceAll } from '../state/reducer.ts';
import { emptySnapshot } from '../state/snapshot.ts';
import { pileUpLine, pileUpOf, type PodLoad } from './pile-up.ts';

const load = (pod: string, sessions: number, modernRequests = 0): PodLoad => ({ pod, sessions, modernRequests });

describe('pile-up', () => {
  it('flags one pod holding at least the threshold share of the sessions while other pods are up', () => {
    expect(PILE_UP).toMatchObject({ share: 0.8, minPodsUp: 2, minSessions: 8 });
    const piled = pileUpOf({ loads: [load('pod-1', 9), load('pod-2', 1), load('pod-3', 0)], podsUp: 3 });
    expect(piled).toEqual({ pod: 'pod-1', what: 'sessions', share: 0.9, count: 9, of: 10 });
    expect(pileUpLine(piled!)).toBe('pod-1 holds 9 of 10 sessions (90%) while other pods idle');
    expect(pileUpOf({ loads: [load('pod-1', 7), load('pod-2', 3)], podsUp: 2 }), '70%: spread enough').toBeNull();
    expect(pileUpOf({ loads: [load('pod-1', 8), load('pod-2', 2)], podsUp: 2 }), 'exactly 80%').toMatchObject({ pod: 'pod-1', share: 0.8 });
  });

  it('says nothing with one pod up, or too few sessions to tell', () => {
    expect(pileUpOf({ loads: [load('pod-1', 20), load('pod-2', 0)], podsUp: 1 })).toBeNull();
    expect(pileUpOf({ loads: [load('pod-1', 7), load('pod-2', 0)], podsUp: 2 })).toBeNull();
    expect(pileUpOf({ loads: [], podsUp: 3 })).toBeNull();
  });

  it('judges modern requests when the sessions say nothing, and takes other limits', () => {
    const loads = [load('pod-1', 0, 45), load('pod-2', 1, 5)];
    expect(pileUpOf({ loads, podsUp: 2 })).toEqual({ pod: 'pod-1', what: 'requests', share: 0.9, count: 45, of: 50 });
    expect(pileUpLine(pileUpOf({ loads, podsUp: 2 })!)).toBe('pod-1 served 45 of 50 modern requests (90%) while other pods idle');
    expect(pileUpOf({ loads, podsUp: 2 }, { ...PILE_UP, share: 0.95 })).toBeNull();
  });

  it('reads a live snapshot: sessions pinned and modern requests per pod, pods up when ready and healthy', () => {
    const at = 1_800_000_000_000;
    const events: LabEvent[] = [
      { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: '127.0.0.1:9001', reason: 'started' },
      { type: 'pod.changed', at, pod: 'pod-2', state: 'ready', address: '127.0.0.1:9002', reason: 'started' },
      ...Array.from({ length: 40 }, (_, i): LabEvent => ({
        type: 'request.routed', at, replicaId: 'replica-1', httpMethod: 'POST', sessionId: null, pod: i < 36 ? '127.0.0.1:9001' : '127.0.0.1:9002',
        status: 200, durationMs: 1, recovered: false, era: 'modern', mcpMethod: 'tools/call',
      })),
    ];
    const snapshot = reduceAll(emptySnapshot(), events);
    expect(snapshot.pods['pod-1']).toMatchObject({ requests: 36, modernRequests: 36 });
    expect(pileUpOf(snapshot)).toEqual({ pod: 'pod-1', what: 'requests', share: 0.9, count: 36, of: 40 });
    const down = reduceAll(snapshot, [{ type: 'pod.changed', at, pod: 'pod-2', state: 'dead', address: '127.0.0.1:9002', reason: 'killed' }]);
    expect(pileUpOf(down), 'one pod left up: nothing idles beside it').toBeNull();
  });
});
