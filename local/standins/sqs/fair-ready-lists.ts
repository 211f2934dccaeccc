/**
 * Visible messages, one FIFO list per message group, served round-robin across groups. This is the
 * stand-in's model of SQS fair queues: when one group (a whale tenant) has a backlog of thousands,
 * a quiet group's new message waits behind at most one message of each other busy group, not behind
 * the whole backlog. Entries are removed lazily: `take` skips those `isCurrent` rejects (deleted or
 * re-hidden since they were listed).
 */

class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head += 1;
    // Reclaim the consumed prefix once it dominates, keeping shift O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class FairReadyLists<T> {
  private readonly lists = new Map<string, Deque<T>>();
  /** Groups that have listed entries, in serving order. */
  private readonly ring = new Deque<string>();

  add(group: string, entry: T): void {
    let list = this.lists.get(group);
    if (!list) {
      list = new Deque<T>();
      this.lists.set(group, list);
      this.ring.push(group);
    }
    list.push(entry);
  }

  /** The next current entry, taking groups in turn; undefined when no group has one. */
  take(isCurrent: (entry: T) => boolean): T | undefined {
    while (this.ring.length > 0) {
      const group = this.ring.shift()!;
      const list = this.lists.get(group)!;
      let found: T | undefined;
      while (list.length > 0) {
        const entry = list.shift()!;
        if (isCurrent(entry)) {
          found = entry;
          break;
        }
      }
      if (list.length > 0) this.ring.push(group);
      else this.lists.delete(group);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  clear(): void {
    this.lists.clear();
    while (this.ring.shift() !== undefined) {
      // drain
    }
  }
}
