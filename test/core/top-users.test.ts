import { describe, expect, it } from 'vitest';
import { rankUsers, topUsersIfExact, unseenBound } from '../../lambdas/core/top-users';

describe('Function: topUsersIfExact', () => {
  const full = (smallest: number) => ({ day: 'd', listed: 3, smallest });

  it('is exact when the k-th seen user beats what any unseen user could have', () => {
    const verdict = topUsersIfExact(
      [full(2), full(3)],
      [
        { user_id: 'a', events: 9 },
        { user_id: 'b', events: 6 },
      ],
      3,
      2,
    );
    expect(verdict).toEqual({
      exact: true,
      top: [
        { user_id: 'a', events: 9 },
        { user_id: 'b', events: 6 },
      ],
    });
  });

  it('is not exact on a tie with the bound (an unseen user could tie with a smaller id)', () => {
    expect(topUsersIfExact([full(2), full(3)], [{ user_id: 'z', events: 5 }], 3, 1)).toEqual({
      exact: false,
    });
  });

  it('is exact once every list ran out, even with fewer than k users', () => {
    const verdict = topUsersIfExact(
      [{ day: 'd', listed: 1, smallest: 4 }],
      [
        { user_id: 'a', events: 4 },
        { user_id: 'b', events: 0 },
      ],
      3,
      5,
    );
    expect(verdict).toEqual({ exact: true, top: [{ user_id: 'a', events: 4 }] });
  });

  it('ranks by events, then user id, dropping users with nothing in the window', () => {
    expect(
      rankUsers([
        { user_id: 'b', events: 2 },
        { user_id: 'a', events: 2 },
        { user_id: 'c', events: 0 },
      ]),
    ).toEqual([
      { user_id: 'a', events: 2 },
      { user_id: 'b', events: 2 },
    ]);
    expect(unseenBound([full(2), { day: 'e', listed: 1, smallest: 7 }], 3)).toBe(2);
  });
});
