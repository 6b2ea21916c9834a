import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LabEvent } from '../events.ts';
import { reduce } from '../state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../state/snapshot.ts';
import type { LabMessage } from './bridge.ts';
import { LabService } from './lab-service.ts';
import { LiveFeed } from './live-feed.ts';

/** What owns a feed, as LabService does: each event reduced into the snapshot, then pushed. `flush` stands for the 50 ms timer. */
class FakeLab {
  snapshot = emptySnapshot();
  readonly feed = new LiveFeed(() => this.snapshot);
  record(...messages: string[]): void {
    for (const message of messages) {
      const event: LabEvent = { type: 'lab.log', at: 0, level: 'info', message };
      this.snapshot = reduce(this.snapshot, event);
      this.feed.push(event);
    }
  }
  flush(): void {
    this.feed.flush();
  }
  /** lab.start: a new lab starts from an empty snapshot, with no event to say so. */
  restart(): void {
    this.snapshot = emptySnapshot();
  }
}

/** A reader's view: what it would draw from the messages, applied with the same reducer. */
function reader() {
  const messages: LabMessage[] = [];
  let state: LabSnapshot | null = null;
  const send = (message: LabMessage) => {
    messages.push(message);
    if ('snapshot' in message) state = message.snapshot;
    else {
      if (!state) throw new Error('events before the snapshot');
      for (const event of message.events) state = reduce(state, event);
    }
  };
  const logged = () => (state?.recent ?? []).map((e) => (e.type === 'lab.log' ? e.message : e.type));
  const kinds = () => messages.map((m) => Object.keys(m)[0]);
  return { send, messages, logged, kinds, state: () => state };
}

const logs = (...messages: string[]) => ({ events: messages.map((message) => expect.objectContaining({ message })) });

describe('the live feed', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the snapshot when a reader opens, then every batch in order', () => {
    const lab = new FakeLab();
    lab.record('before the reader');
    lab.flush();
    const win = reader();
    lab.feed.open(win.send);
    expect(win.kinds()).toEqual(['snapshot']);
    expect(win.logged()).toEqual(['before the reader']);
    lab.record('a', 'b');
    lab.flush();
    lab.record('c');
    lab.flush();
    expect(win.messages.slice(1)).toEqual([logs('a', 'b'), logs('c')]);
    expect(win.logged()).toEqual(['before the reader', 'a', 'b', 'c']);
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('sends a reader that opens while events wait to be sent only what follows: each event once', () => {
    const lab = new FakeLab();
    const first = reader();
    lab.feed.open(first.send);
    lab.record('early', 'also early');
    // Queued, not sent yet, when the second reader opens: they are in its snapshot already…
    const second = reader();
    lab.feed.open(second.send);
    expect(second.logged()).toEqual(['early', 'also early']);
    lab.record('late');
    lab.flush();
    // …so the batch that carries them reaches it without them.
    expect(second.messages[1]).toEqual(logs('late'));
    expect(first.messages[1]).toEqual(logs('early', 'also early', 'late'));
    expect(second.state()).toEqual(lab.snapshot);
    expect(first.state()).toEqual(lab.snapshot);
  });

  it('keeps nothing for nobody: what happened with no reader open is in the next reader\'s snapshot', () => {
    const lab = new FakeLab();
    lab.record('unread 1', 'unread 2');
    const win = reader();
    lab.feed.open(win.send);
    lab.flush();
    expect(win.kinds()).toEqual(['snapshot']);
    lab.record('read');
    lab.flush();
    expect(win.messages[1]).toEqual(logs('read'));
    expect(win.logged()).toEqual(['unread 1', 'unread 2', 'read']);
  });

  it('resends the snapshot when the owner starts again from an empty one, so a reader does not keep the old lab', () => {
    const lab = new FakeLab();
    const win = reader();
    lab.feed.open(win.send);
    lab.record('old lab 1', 'old lab 2');
    lab.flush();
    lab.record('old lab 3');
    lab.restart();
    lab.record('new lab 1');
    lab.flush();
    expect(win.messages.at(-1)).toHaveProperty('snapshot');
    expect(win.logged()).toEqual(['new lab 1']);
    lab.record('new lab 2');
    lab.flush();
    expect(win.messages.at(-1)).toEqual(logs('new lab 2'));
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('resends the snapshot to a reader that opened on queued events of a lab that was then replaced', () => {
    const lab = new FakeLab();
    lab.feed.open(reader().send);
    lab.record('old lab');
    const win = reader();
    lab.feed.open(win.send); // 'old lab' is queued, and in its snapshot
    lab.restart();
    lab.flush();
    expect(win.messages.at(-1)).toEqual({ snapshot: emptySnapshot() });
    lab.record('new lab');
    lab.flush();
    expect(win.messages.at(-1)).toEqual(logs('new lab'));
    expect(win.logged()).toEqual(['new lab']);
  });

  it('sends each batch once per reader, 50 ms after its first event', () => {
    vi.useFakeTimers();
    const lab = new FakeLab();
    const win = reader();
    lab.feed.open(win.send);
    lab.record('a');
    vi.advanceTimersByTime(30);
    lab.record('b');
    vi.advanceTimersByTime(19);
    expect(win.kinds()).toEqual(['snapshot']);
    vi.advanceTimersByTime(1);
    expect(win.messages[1]).toEqual(logs('a', 'b'));
    vi.advanceTimersByTime(500);
    expect(win.messages).toHaveLength(2);
  });

  it('stops sending to a closed reader, and closes one it cannot send to', () => {
    const lab = new FakeLab();
    const errors: unknown[] = [];
    const win = reader();
    const close = lab.feed.open(win.send);
    let sends = 0;
    lab.feed.open(() => {
      sends += 1;
      if (sends > 1) throw new Error('Object has been destroyed');
    }, { onSendError: (error) => errors.push(error) });
    expect(lab.feed.size).toBe(2);
    close();
    lab.record('x');
    lab.flush();
    expect(win.messages).toHaveLength(1);
    expect(lab.feed.size).toBe(0);
    expect(errors).toEqual([new Error('Object has been destroyed')]);
  });

  it('closes every reader and drops what was queued when closed', () => {
    vi.useFakeTimers();
    const lab = new FakeLab();
    const win = reader();
    lab.feed.open(win.send);
    lab.record('queued');
    lab.feed.close();
    vi.advanceTimersByTime(100);
    expect(lab.feed.size).toBe(0);
    expect(win.kinds()).toEqual(['snapshot']);
  });
});

describe('the live feed of the real LabService', () => {
  it('gets each event once, in order, across its 50 ms batches, to readers that open at any time', async () => {
    const service = new LabService();
    // LabService records what its lab emits; a test has no lab, so it records directly.
    const record = (message: string) => service['record']({ type: 'lab.log', at: Date.now(), level: 'info', message });
    record('1');
    const early = reader();
    service.follow(early.send);
    record('2');
    await new Promise((resolve) => setTimeout(resolve, 80));
    record('3');
    const late = reader();
    service.follow(late.send);
    record('4');
    await vi.waitFor(() => expect(late.logged()).toEqual(['1', '2', '3', '4']));
    expect(early.logged()).toEqual(['1', '2', '3', '4']);
    expect(early.kinds()).toEqual(['snapshot', 'events', 'events']);
    expect(late.kinds()).toEqual(['snapshot', 'events']);
    expect(early.state()).toEqual(service.getSnapshot());
    expect(late.state()).toEqual(service.getSnapshot());
    await service.close();
  });
});
