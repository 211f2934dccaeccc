/**
 * Builds SQS deliveries of packed queue messages from plain events, as ingest would send them.
 */
import { packQueueMessages, serializeQueuedEvent } from '../../lambdas/core/queue-message';
import type { IncomingMessage } from '../../lambdas/use-cases/write-events';
import type { StoredEvent } from './store-state';

let sequence = 0;

export interface MessageOptions {
  readonly receivedAt?: string;
  readonly requestId?: string;
  readonly receiveCount?: number;
  /** Maximum bytes per message (default: the production limit). */
  readonly maxBytes?: number;
  /** Sent as an archive replay sends them. */
  readonly replay?: boolean;
}

/** One request per account present in `events`, each packed into one or more messages. */
export function deliveriesFor(
  events: readonly StoredEvent[],
  options: MessageOptions = {},
): IncomingMessage[] {
  const byAccount = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = byAccount.get(event.account_id) ?? [];
    byAccount.set(event.account_id, list);
    list.push(event);
  }
  const messages: IncomingMessage[] = [];
  for (const [account, list] of byAccount) {
    const requestId = options.requestId ?? `req-${++sequence}`;
    const bodies = packQueueMessages(
      {
        account_id: account,
        request_id: `${requestId}-${account}`,
        received_at: options.receivedAt ?? new Date().toISOString(),
        ...(options.replay ? { replay: true } : {}),
        events: list.map(({ account_id: _account, ...event }) =>
          serializeQueuedEvent({ ...event, metadata: { source: 'test' } }),
        ),
      },
      options.maxBytes,
    );
    for (const body of bodies) {
      messages.push({ messageId: `msg-${++sequence}`, body, receiveCount: options.receiveCount ?? 1 });
    }
  }
  return messages;
}

/** The same SQS message delivered again (same id and body, one more receive). */
export function redelivered(messages: readonly IncomingMessage[]): IncomingMessage[] {
  return messages.map((message) => ({ ...message, receiveCount: message.receiveCount + 1 }));
}

export function event(
  account: string,
  id: string,
  timestamp: string | number = Date.now(),
  user = 'user-1',
  type = 'page_view',
): StoredEvent {
  const iso = typeof timestamp === 'number' ? new Date(timestamp).toISOString() : timestamp;
  return { account_id: account, event_id: id, user_id: user, type, timestamp: iso };
}
