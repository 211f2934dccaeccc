import { describe, expect, it } from 'vitest';
import { sizeBatches } from '../../lambdas/core/size-batches';

describe('Core: sizeBatches', () => {
  const length = (item: string) => item.length;

  it('keeps order and cuts at the entry limit', () => {
    expect(sizeBatches(['a', 'b', 'c', 'd', 'e'], length, { maxEntries: 2, maxBytes: 100 })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
  });

  it('cuts before the byte limit is passed, and gives an oversized item a batch of its own', () => {
    expect(sizeBatches(['aaa', 'bb', 'cccccc', 'd'], length, { maxBytes: 5 })).toEqual([
      ['aaa', 'bb'],
      ['cccccc'],
      ['d'],
    ]);
  });

  it('makes no batch of nothing', () => {
    expect(sizeBatches([], length, { maxBytes: 5 })).toEqual([]);
  });
});
