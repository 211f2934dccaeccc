/**
 * Exact top users from per-day sorted lists, without reading every user (a threshold algorithm).
 *
 * For each day of the window we read its M heaviest users (an index gives them in order). Every
 * user not among them has, on that day, at most the M-th count; so over the window at most
 * tau = sum of the M-th counts (0 for a day whose list ran out). We then sum the window exactly for
 * the users we saw. If the k-th of them has strictly more than tau, nobody unseen can reach the
 * top k, ties included, and the answer is exact. Otherwise M grows and we look again; once every
 * list runs out, tau is 0 and the answer is exact by construction. Partial days at the window's
 * edges use the whole day's count as their bound, which is still an upper bound.
 */

export interface DayListBound {
  readonly day: string;
  /** How many users the day's list returned (fewer than M means it ran out). */
  readonly listed: number;
  /** The smallest count among them (the M-th, when the list is full). */
  readonly smallest: number;
}

export interface UserCount {
  readonly user_id: string;
  readonly events: number;
}

export type TopUsersVerdict = { readonly exact: true; readonly top: UserCount[] } | { readonly exact: false };

export function rankUsers(users: readonly UserCount[]): UserCount[] {
  return users
    .filter((user) => user.events > 0)
    .sort((a, b) => b.events - a.events || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0));
}

export function unseenBound(bounds: readonly DayListBound[], listSize: number): number {
  return bounds.reduce((sum, bound) => sum + (bound.listed < listSize ? 0 : bound.smallest), 0);
}

export function topUsersIfExact(
  bounds: readonly DayListBound[],
  candidates: readonly UserCount[],
  listSize: number,
  top: number,
): TopUsersVerdict {
  const tau = unseenBound(bounds, listSize);
  const ranked = rankUsers(candidates);
  if (tau === 0) return { exact: true, top: ranked.slice(0, top) };
  if (ranked.length >= top && ranked[top - 1]!.events > tau)
    return { exact: true, top: ranked.slice(0, top) };
  return { exact: false };
}

/** The first list size to try, and how it grows. */
export function initialListSize(top: number): number {
  return Math.max(50, 5 * top);
}

export const LIST_GROWTH = 4;
