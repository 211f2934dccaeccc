import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../lambdas/shared/bounded-map';

describe('Class: BoundedMap', () => {
  it('forgets the entry stored longest ago, counting a re-stored key as new', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    map.set('a', 3); // a is now the newest
    map.set('c', 4);

    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
