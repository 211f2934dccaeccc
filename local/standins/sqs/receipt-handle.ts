/**
 * Receipt handles name one receive of one message: queue, message key and that receive's nonce.
 * A new receive gets a new nonce, so an older handle no longer matches (SQS: "If you use an old
 * ReceiptHandle, the request will succeed, but the message might not be deleted").
 */

export interface ReceiptHandle {
  readonly queue: string;
  readonly key: string;
  readonly nonce: string;
}

export function encodeReceiptHandle(handle: ReceiptHandle): string {
  return Buffer.from(JSON.stringify([handle.queue, handle.key, handle.nonce]), 'utf8').toString('base64');
}

/** Undefined for anything that is not a handle this stand-in issued. */
export function decodeReceiptHandle(text: unknown): ReceiptHandle | undefined {
  if (typeof text !== 'string' || text === '' || !/^[A-Za-z0-9+/]+=*$/.test(text)) return undefined;
  try {
    const parts: unknown = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((part) => typeof part === 'string')) {
      return undefined;
    }
    const [queue, key, nonce] = parts as [string, string, string];
    return { queue, key, nonce };
  } catch {
    return undefined;
  }
}
