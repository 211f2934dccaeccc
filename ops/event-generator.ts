/**
 * Realistic generated events, deterministic for a seed: used by tests, benchmarks and `ops seed`.
 *
 * - `accounts` tenants with a Zipf skew and one whale (account 0) taking ~`whaleShare` of events (more
 *   when there are so few accounts that the next one would otherwise be larger);
 * - thousands of users per account (more for bigger accounts), users Zipf-skewed within an account;
 * - a few event types with realistic metadata, 300-500 bytes per event as JSON;
 * - a share of late events (timestamps hours to days before "now") and of verbatim duplicates.
 */

import { seededRandom } from '../lambdas/core/seeded-random';

export interface GeneratedEvent {
  event_id: string;
  account_id: string;
  user_id: string;
  type: string;
  timestamp: string;
  metadata: Record<string, unknown>;
}

export interface EventGeneratorOptions {
  readonly seed?: number;
  readonly accounts?: number;
  /** Share of all events going to the whale, account index 0. */
  readonly whaleShare?: number;
  /** Events get timestamps spread over [from, to) (epoch ms), moving forward as they are drawn. */
  readonly from?: number;
  readonly to?: number;
  /** How many events the time range is spread over (default 1,000,000). */
  readonly spreadOver?: number;
  readonly lateShare?: number;
  /** How far back a late event may be, in ms (default 3 days). */
  readonly maxLatenessMs?: number;
  readonly duplicateShare?: number;
}

const EVENT_TYPES = [
  ['page_view', 0.46],
  ['click', 0.22],
  ['session_start', 0.1],
  ['search', 0.09],
  ['add_to_cart', 0.06],
  ['purchase', 0.045],
  ['signup', 0.025],
] as const;

const PATHS = [
  '/',
  '/pricing',
  '/docs/getting-started',
  '/blog/launch',
  '/product/alpha',
  '/checkout',
  '/account',
];
const REFERRERS = [
  'https://www.google.com/',
  'https://news.ycombinator.com/',
  'https://twitter.com/',
  '',
  'https://duckduckgo.com/',
];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

/** Cumulative weights for Zipf(s) over n ranks; draw with `pickIndex`. */
function zipfCumulative(n: number, s: number): Float64Array {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 1; rank <= n; rank++) {
    sum += 1 / rank ** s;
    cumulative[rank - 1] = sum;
  }
  for (let i = 0; i < n; i++) cumulative[i]! /= sum;
  return cumulative;
}

function pickIndex(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function accountIdFor(index: number): string {
  return `acct_${String(index).padStart(4, '0')}`;
}

export class EventGenerator {
  readonly accountCount: number;
  private readonly random: () => number;
  private readonly accountWeights: Float64Array;
  private readonly usersPerAccount: Int32Array;
  private readonly userWeights = new Map<number, Float64Array>();
  private readonly whaleShare: number;
  private readonly from: number;
  private readonly span: number;
  private readonly spreadOver: number;
  private readonly lateShare: number;
  private readonly maxLatenessMs: number;
  private readonly duplicateShare: number;
  private readonly recent: GeneratedEvent[] = [];
  private drawn = 0;
  private sequence = 0;
  private readonly runId: string;

  constructor(options: EventGeneratorOptions = {}) {
    const seed = options.seed ?? 1;
    this.random = seededRandom(seed);
    this.accountCount = options.accounts ?? 1000;
    const now = Date.now();
    this.from = options.from ?? now - 60 * 60 * 1000;
    this.span = Math.max(1, (options.to ?? now) - this.from);
    this.spreadOver = options.spreadOver ?? 1_000_000;
    this.lateShare = options.lateShare ?? 0.03;
    this.maxLatenessMs = options.maxLatenessMs ?? 3 * 24 * 60 * 60 * 1000;
    this.duplicateShare = options.duplicateShare ?? 0.02;
    this.runId = seed.toString(36);
    // Accounts other than the whale share the rest with a Zipf skew.
    this.accountWeights = zipfCumulative(Math.max(1, this.accountCount - 1), 1.1);
    // With few accounts the Zipf head would outgrow the whale: the whale stays a quarter bigger.
    const head = 1.25 * this.accountWeights[0]!;
    this.whaleShare = this.accountCount > 1 ? Math.max(options.whaleShare ?? 0.3, head / (1 + head)) : 1;
    this.usersPerAccount = new Int32Array(this.accountCount);
    for (let i = 0; i < this.accountCount; i++) {
      // The whale has 20k users; the others 1k-5k, bigger accounts having more.
      this.usersPerAccount[i] = i === 0 ? 20_000 : 1_000 + Math.floor(4_000 / Math.sqrt(i));
    }
  }

  /** The account index drawn for the next event (0 is the whale). */
  private drawAccount(): number {
    if (this.accountCount === 1 || this.random() < this.whaleShare) return 0;
    return 1 + pickIndex(this.accountWeights, this.random());
  }

  private drawUser(account: number): number {
    let weights = this.userWeights.get(account);
    if (!weights) {
      weights = zipfCumulative(this.usersPerAccount[account]!, 0.9);
      this.userWeights.set(account, weights);
    }
    return pickIndex(weights, this.random());
  }

  private drawType(): string {
    let u = this.random();
    for (const [type, share] of EVENT_TYPES) {
      u -= share;
      if (u <= 0) return type;
    }
    return EVENT_TYPES[0][0];
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)]!;
  }

  /** The timestamp "now" of the generator: moves from `from` to `to` over `spreadOver` events. */
  currentTime(): number {
    return this.from + Math.floor((Math.min(this.drawn, this.spreadOver) / this.spreadOver) * this.span);
  }

  next(): GeneratedEvent {
    this.drawn++;
    if (this.recent.length > 0 && this.random() < this.duplicateShare) {
      return { ...this.pick(this.recent) };
    }
    const account = this.drawAccount();
    const type = this.drawType();
    let time = this.currentTime();
    if (this.random() < this.lateShare) time -= Math.floor(this.random() * this.maxLatenessMs);
    const sequence = this.sequence++;
    const event: GeneratedEvent = {
      event_id: `evt_${this.runId}_${sequence.toString(36).padStart(8, '0')}`,
      account_id: accountIdFor(account),
      user_id: `user_${this.drawUser(account).toString(36).padStart(5, '0')}`,
      type,
      timestamp: new Date(time).toISOString(),
      metadata: this.metadataFor(type, sequence),
    };
    if (this.recent.length < 1000) this.recent.push(event);
    else this.recent[sequence % 1000] = event;
    return event;
  }

  batch(size: number): GeneratedEvent[] {
    const events = new Array<GeneratedEvent>(size);
    for (let i = 0; i < size; i++) events[i] = this.next();
    return events;
  }

  private metadataFor(type: string, sequence: number): Record<string, unknown> {
    const metadata: Record<string, unknown> = {
      session_id: `sess_${(sequence >>> 4).toString(36)}`,
      path: this.pick(PATHS),
      referrer: this.pick(REFERRERS),
      user_agent: this.pick(AGENTS),
      screen: { width: this.pick([390, 1280, 1440, 1920]), height: this.pick([844, 800, 900, 1080]) },
    };
    if (type === 'purchase' || type === 'add_to_cart') {
      metadata.amount_cents = 500 + Math.floor(this.random() * 20_000);
      metadata.currency = 'EUR';
      metadata.sku = `sku_${Math.floor(this.random() * 500)}`;
    } else if (type === 'search') {
      metadata.query = this.pick(['pricing', 'api keys', 'export csv', 'sso', 'webhooks']);
    }
    return metadata;
  }
}
