/**
 * A Map holding at most `capacity` entries: storing a key makes it the newest, and storing one too
 * many forgets the one stored longest ago (Maps iterate in insertion order). Per-instance memories
 * (the limiter's known TATs, the summaries) stay bounded however many accounts an instance sees.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.capacity) super.delete(this.keys().next().value as K);
    return this;
  }
}
