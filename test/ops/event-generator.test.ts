/**
 * The generator's events are what the benchmarks and the exactly-once tests stand on: they must look
 * like issue 3's description (sizes, skew, types, users, late and duplicated events) and be
 * reproducible from a seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EventGenerator, type GeneratedEvent } from '../../ops/event-generator';

describe('Class: EventGenerator', () => {
  const to = Date.parse('2026-11-22T12:00:00.000Z');
  const from = to - 86_400_000;
  const count = 50_000;
  let events: GeneratedEvent[];

  beforeAll(() => {
    events = new EventGenerator({ seed: 11, from, to, spreadOver: count }).batch(count);
  });

  it('is deterministic for a seed', () => {
    const again = new EventGenerator({ seed: 11, from, to, spreadOver: count }).batch(100);
    expect(again).toEqual(events.slice(0, 100));
    expect(new EventGenerator({ seed: 12, from, to, spreadOver: count }).batch(100)).not.toEqual(again);
  });

  it('makes events of 300 to 500 bytes as JSON', () => {
    const sizes = events.map((event) => Buffer.byteLength(JSON.stringify(event)));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
  });

  it('gives one whale ~30 % of events, spreads the rest over ~1,000 Zipf-skewed accounts', () => {
    const perAccount = new Map<string, number>();
    for (const event of events) perAccount.set(event.account_id, (perAccount.get(event.account_id) ?? 0) + 1);
    const counts = [...perAccount.values()].sort((a, b) => b - a);
    expect(counts[0]! / count).toBeGreaterThan(0.27);
    expect(counts[0]! / count).toBeLessThan(0.33);
    expect(perAccount.size).toBeGreaterThan(500);
    expect(perAccount.size).toBeLessThanOrEqual(1_000);
    // Skewed: the second account has far more than the median one.
    expect(counts[1]!).toBeGreaterThan(10 * counts[Math.floor(counts.length / 2)]!);
  });

  it('keeps the whale the biggest account however few accounts there are', () => {
    for (const accounts of [2, 3, 5, 10, 30]) {
      const perAccount = new Map<string, number>();
      for (const event of new EventGenerator({ seed: 3, accounts, from, to }).batch(10_000))
        perAccount.set(event.account_id, (perAccount.get(event.account_id) ?? 0) + 1);
      const [biggest] = [...perAccount].sort((a, b) => b[1] - a[1]);
      expect([accounts, biggest![0]]).toEqual([accounts, 'acct_0000']);
    }
  });

  it('uses a few event types and thousands of users for the big accounts', () => {
    expect(new Set(events.map((event) => event.type)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(events.map((event) => event.type)).size).toBeLessThanOrEqual(10);
    // The whale is account 0.
    const whaleUsers = new Set(events.filter((e) => e.account_id === 'acct_0000').map((e) => e.user_id));
    expect(whaleUsers.size).toBeGreaterThan(2_000);
  });

  it('makes a few percent of events late and a few percent duplicates', () => {
    const ids = new Set(events.map((event) => `${event.account_id}/${event.event_id}`));
    const duplicateShare = 1 - ids.size / count;
    expect(duplicateShare).toBeGreaterThan(0.01);
    expect(duplicateShare).toBeLessThan(0.04);
    // Late: behind the moving "now" of the spread by more than an hour.
    const late = events.filter(
      (event, i) => Date.parse(event.timestamp) < from + ((to - from) * i) / count - 3_600_000,
    );
    expect(late.length / count).toBeGreaterThan(0.01);
    expect(late.length / count).toBeLessThan(0.05);
    expect(Math.max(...events.map((event) => Date.parse(event.timestamp)))).toBeLessThanOrEqual(to);
  });
});
