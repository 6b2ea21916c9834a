import { describe, expect, it } from 'vitest';
import { LinkedList, type Linked } from './linked-list.ts';

class Item implements Linked<Item> {
  readonly name: string;
  prev: Item | null = null;
  next: Item | null = null;
  listed = false;
  constructor(name: string) {
    this.name = name;
  }
}

const names = (list: LinkedList<Item>) => [...list].map((item) => item.name);

describe('LinkedList', () => {
  it('keeps insertion order; deletes from the head, the middle and the tail; a removed entry links to nothing', () => {
    const list = new LinkedList<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => new Item(name)) as [Item, Item, Item, Item];
    for (const item of [a, b, c, d]) list.add(item);
    list.add(b); // already in: nothing changes
    expect(names(list)).toEqual(['a', 'b', 'c', 'd']);
    expect(list.size).toBe(4);

    expect(list.delete(b)).toBe(true);
    expect(b).toMatchObject({ prev: null, next: null, listed: false });
    expect(list.delete(b), 'not in the list any more').toBe(false);
    expect(list.delete(a)).toBe(true);
    expect(list.delete(d)).toBe(true);
    expect(names(list)).toEqual(['c']);
    expect(list.first()).toBe(c);

    list.add(a); // back in, at the end
    expect(names(list)).toEqual(['c', 'a']);
    expect(list.size).toBe(2);
    list.delete(c);
    list.delete(a);
    expect(names(list)).toEqual([]);
    expect(list.first()).toBeNull();
    expect(list.size).toBe(0);
  });

  it('goes on iterating when the entry just given is deleted', () => {
    const list = new LinkedList<Item>();
    for (const name of ['a', 'b', 'c']) list.add(new Item(name));
    const seen: string[] = [];
    for (const item of list) {
      seen.push(item.name);
      list.delete(item);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(list.size).toBe(0);
  });
});
