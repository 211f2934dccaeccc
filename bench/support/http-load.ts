/**
 * An HTTP load generator in its own process (so it does not share the server's event loop):
 * `clients` concurrent loops POSTing generated batches to /events until the deadline. Reports
 * latencies, statuses and the distinct accepted events to the parent over IPC.
 *
 * Input (IPC): { endpoint, keys: {account, key}[], clients, batch, seconds, accounts }
 */
import { EventGenerator } from '../../ops/event-generator';

export interface LoadRequest {
  readonly endpoint: string;
  readonly keys: readonly { account: string; key: string }[];
  readonly clients: number;
  readonly batch: number;
  readonly seconds: number;
  readonly accounts: number;
}

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
  await Promise.all(
    Array.from({ length: request.clients }, async () => {
      while (Date.now() < deadline) {
        // A request goes to the account of its first event (Zipf-skewed, a whale near 30%); all
        // its events belong to that account.
        const sample = generator.batch(request.batch);
        const account = sample[0]!.account_id;
        const body = JSON.stringify({
          events: sample.map(({ account_id: _, ...event }) => ({ ...event, timestamp: Date.now() })),
        });
        const t = performance.now();
        try {
          const response = await fetch(`${request.endpoint}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${keyOf.get(account)}`, 'content-type': 'application/json' },
            body,
          });
          const result = (await response.json()) as { accepted?: number; rejected?: { index: number }[] };
          latencies.push(performance.now() - t);
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
      }
    }),
  );
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
