import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { NOT_WAITING, type PodView } from '../state/snapshot.ts';
import { addressOfUrl, byNumber, podLabel, podNameAt, sessionOf, shortId } from './names.ts';

const pod = (name: string, state: PodView['state'], address: string | null): PodView => ({ name, state, address, reason: '', sessions: 0, requests: 0, modernRequests: 0, unhealthy: {}, waiting: NOT_WAITING });

describe('names', () => {
  it('names an address by the live pod that has it, else by the dead one that had it', () => {
    // pod-1 was restarted in place as pod-3: same address.
    const pods = { 'pod-1': pod('pod-1', 'dead', '127.0.0.1:4001'), 'pod-2': pod('pod-2', 'dead', '127.0.0.1:4002'), 'pod-3': pod('pod-3', 'ready', '127.0.0.1:4001') };
    expect(podNameAt(pods, '127.0.0.1:4001')).toBe('pod-3');
    expect(podNameAt(pods, '127.0.0.1:4002')).toBe('pod-2');
    expect(podNameAt(pods, '127.0.0.1:9')).toBeUndefined();
    expect(podNameAt(pods, null)).toBeUndefined();
    expect(podLabel(pods, '127.0.0.1:9')).toBe('127.0.0.1:9');
    expect(podLabel(pods, null)).toBe('—');
  });

  it('finds the session an event is about, or none', () => {
    const unknown: LabEvent = { type: 'session.unknown', at: 0, replicaId: 'replica-1', sessionId: 's1', status: 404 };
    expect(sessionOf(unknown)).toBe('s1');
    expect(sessionOf({ type: 'redis.keys', at: 0, keys: 1 })).toBeNull();
  });

  it('shortens ids, takes the address of a URL and sorts by number', () => {
    expect(shortId('0123456789abcdef')).toBe('012345…');
    expect(shortId('0123456')).toBe('0123456');
    expect(addressOfUrl('http://127.0.0.1:3000/mcp')).toBe('127.0.0.1:3000');
    expect(addressOfUrl('not a url')).toBe('not a url');
    expect(['pod-10', 'pod-9'].sort(byNumber)).toEqual(['pod-9', 'pod-10']);
  });
});
