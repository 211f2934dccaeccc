/**
 * Splits items, in order, into batches of at most `maxEntries` items and `maxBytes` bytes (an item
 * larger than `maxBytes` alone makes a batch of one): the shape of every AWS batch call and of the
 * archive's records.
 */
export function sizeBatches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  { maxEntries = Number.POSITIVE_INFINITY, maxBytes }: { maxEntries?: number; maxBytes: number },
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length === maxEntries || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
