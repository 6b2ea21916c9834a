import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { FailureStories } from './stories.ts';

const T = 1_700_000_000_000;
const routed = (at: number, sessionId: string, replicaId: string, status = 200): LabEvent => ({
  type: 'request.routed', at, replicaId, httpMethod: 'POST', sessionId, pod: '127.0.0.1:9001', status, durationMs: 2, recovered: false,
});
const failed = (at: number, sessionId: string): LabEvent => ({
  type: 'recovery.failed', at, replicaId: 'replica-2', sessionId, fromPod: '127.0.0.1:9001', cause: 'connect-refused', reason: `session ${sessionId} is gone`,
});

describe('a soak\'s failure stories', () => {
  it('tell a failed session by its own events and the lab\'s around them, and what followed within 3 s', () => {
    const stories = new FailureStories();
    stories.add({ type: 'redis.changed', at: T - 60_000, up: true, reason: 'long before: not in the story' });
    stories.add(routed(T, 's-failing', 'replica-1'));
    stories.add(routed(T + 5, 's-other', 'replica-3'));
    stories.add({ type: 'redis.changed', at: T + 100, up: false, reason: 'stopped' });
    stories.add(failed(T + 200, 's-failing'));
    stories.add({ type: 'session.unknown', at: T + 210, replicaId: 'replica-2', sessionId: 's-failing', status: 404 });
    stories.add(failed(T + 300, 's-failing')); // the same session again: still one story
    stories.add({ type: 'redis.changed', at: T + 10_000, up: true, reason: 'too late for the story' });

    const told = stories.stories();
    expect(told).toHaveLength(1);
    const [story] = told;
    expect(story!.sessionId).toBe('s-failing');
    expect(story!.failure).toMatch(/replica-2 failed: session s-failing is gone/);
    const text = story!.lines.join('\n');
    expect(text).toMatch(/^\+\s+0 ms {2}POST s-failing via replica-1/);
    expect(text).toContain('Redis down: stopped');
    expect(text).toContain('replica-2 does not know session s-failing');
    expect(text).not.toContain('s-other');
    expect(text).not.toContain('long before');
    expect(text).not.toContain('too late');
  });

  it('say a replica\'s repeated store failure once a second, not once a request', () => {
    const stories = new FailureStories();
    stories.add(routed(T, 's-1', 'replica-1'));
    for (let i = 0; i < 20; i++) stories.add({ type: 'store.error', at: T + 10 + i * 10, replicaId: 'replica-1', operation: 'get', message: 'Stream isn\'t writeable' });
    stories.add({ type: 'store.error', at: T + 15, replicaId: 'replica-2', operation: 'get', message: 'Stream isn\'t writeable' });
    stories.add({ type: 'store.error', at: T + 1200, replicaId: 'replica-1', operation: 'get', message: 'Stream isn\'t writeable' });
    stories.add(failed(T + 1300, 's-1'));
    const lines = stories.stories()[0]!.lines;
    expect(lines.filter((l) => l.includes('replica-1: session store get failed'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('replica-2: session store get failed'))).toHaveLength(1);
  });

  it('tell at most five sessions', () => {
    const stories = new FailureStories();
    for (let i = 0; i < 8; i++) stories.add(failed(T + i, `s-${i}`));
    expect(stories.stories().map((s) => s.sessionId)).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
  });
});
