/**
 * An HTTP load generator in its own process (so it does not share the server's event loop):
 * either `clients` concurrent loops (closed loop) or requests on a fixed schedule of `rate`
 * events/s (open loop) POSTing generated batches to /events until the deadline. Reports latencies,
 * statuses and the distinct accepted events to the parent over IPC.
 *
 * Input (IPC): { endpoint, keys: {account, key}[], clients, batch, seconds, accounts, rate?, warmupSeconds }
 */
import { EventGenerator } from '../../ops/event-generator';

export interface LoadRequest {
  readonly endpoint: string;
  readonly keys: readonly { account: string; key: string }[];
  readonly clients: number;
  readonly batch: number;
  readonly seconds: number;
  readonly accounts: number;
  /** Offered load in events/s (open loop); closed loop with `clients` when absent. */
  readonly rate?: number;
  /** Requests sent in the first `warmupSeconds` count as accepted but not in the latencies. */
  readonly warmupSeconds: number;
}

/** An open-loop sender stops adding connections here; later requests wait (and count as late). */
const MAX_IN_FLIGHT = 256;

export interface LoadResult {
  readonly latencies: number[];
  readonly statuses: [number, number][];
  readonly errors: number;
  readonly accepted: number;
  readonly distinctAccepted: string[];
  readonly wallSeconds: number;
}

async function run(request: LoadRequest): Promise<LoadResult> {
  const started = Date.now();
  const generator = new EventGenerator({
    seed: 5,
    accounts: request.accounts,
    from: started,
    to: started + request.seconds * 1000,
    spreadOver: 10_000_000,
  });
  const keyOf = new Map(request.keys.map((k) => [k.account, k.key]));
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const distinct = new Set<string>();
  let errors = 0;
  let accepted = 0;
  const deadline = started + request.seconds * 1000;
  const progress = setInterval(
    () => process.send?.({ type: 'progress', accepted, seconds: (Date.now() - started) / 1000 }),
    1000,
  );

  // Every process starts cold (JIT, connections, first pages): the first second's latencies are
  // 5-10x the steady state's and would be all of p99 in a short run.
  const measureFrom = performance.now() + request.warmupSeconds * 1000;

  /** One POST; its latency counts from `intendedStart` (performance.now() time). */
  const post = async (intendedStart: number) => {
    // A request goes to the account of its first event (Zipf-skewed, a whale near 30%); all its
    // events belong to that account.
    const sample = generator.batch(request.batch);
    const account = sample[0]!.account_id;
    const body = JSON.stringify({
      events: sample.map(({ account_id: _, ...event }) => ({ ...event, timestamp: Date.now() })),
    });
    try {
      const response = await fetch(`${request.endpoint}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyOf.get(account)}`, 'content-type': 'application/json' },
        body,
      });
      const result = (await response.json()) as { accepted?: number; rejected?: { index: number }[] };
      if (intendedStart >= measureFrom) latencies.push(performance.now() - intendedStart);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 202) {
        accepted += result.accepted ?? 0;
        const rejected = new Set((result.rejected ?? []).map((r) => r.index));
        sample.forEach((event, index) => {
          if (!rejected.has(index)) distinct.add(`${account}/${event.event_id}`);
        });
      }
    } catch {
      errors++;
    }
  };

  if (request.rate === undefined) {
    // Closed loop: each client sends its next request when the previous one is answered (the most
    // the pipeline can take; latency includes queueing for CPU).
    await Promise.all(
      Array.from({ length: request.clients }, async () => {
        while (Date.now() < deadline) await post(performance.now());
      }),
    );
  } else {
    // Open loop: requests leave on a fixed schedule whatever the answers do, as real clients do.
    // Latency counts from the scheduled time, so a loader that falls behind cannot hide queueing.
    const interval = (1000 * request.batch) / request.rate;
    const origin = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let k = 0; k * interval < request.seconds * 1000; k++) {
      const scheduled = origin + k * interval;
      const wait = scheduled - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const sent = post(scheduled).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
    await Promise.all(inFlight);
  }
  clearInterval(progress);
  return {
    latencies,
    statuses: [...statuses],
    errors,
    accepted,
    distinctAccepted: [...distinct],
    wallSeconds: (Date.now() - started) / 1000,
  };
}

process.once('message', async (request: LoadRequest) => {
  const result = await run(request);
  process.send!({ type: 'result', result }, () => process.exit(0));
});
