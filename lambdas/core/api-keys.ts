/**
 * API keys: format, generation and hashing. A key looks like
 *   fh_sk_<30 base62 random chars><6 base62 CRC-32 chars>   (secret, both scopes possible)
 *   fh_pk_<...>                                             (publishable, ingest only, browser-safe)
 * The fixed prefix lets secret scanners recognise leaked keys, and the checksum lets us (and them)
 * reject a mistyped or made-up key without a database lookup. Only the SHA-256 of a key is stored;
 * its first 12 characters are kept visible to tell keys apart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type KeyKind = 'secret' | 'publishable';
export type Scope = 'ingest' | 'read';
export const SCOPES: readonly Scope[] = ['ingest', 'read'];

const PREFIX: Record<KeyKind, string> = { secret: 'fh_sk_', publishable: 'fh_pk_' };
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^fh_(sk|pk)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;
/** How much of a key is shown in listings and logs. */
export const VISIBLE_PREFIX_LENGTH = 12;

function toBase62(value: number, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = BASE62[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function generateApiKey(kind: KeyKind): string {
  const bytes = randomBytes(RANDOM_LENGTH);
  let random = '';
  // 256 is not a multiple of 62: draw again on the few values that would bias the alphabet.
  for (let i = 0; random.length < RANDOM_LENGTH; i++) {
    const byte = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (byte < 248) random += BASE62[byte % 62];
  }
  const body = `${PREFIX[kind]}${random}`;
  return `${body}${toBase62(crc32(body), CHECKSUM_LENGTH)}`;
}

export interface ParsedApiKey {
  readonly kind: KeyKind;
  readonly visiblePrefix: string;
}

/** The kind of a well-formed key with a valid checksum, or undefined. Says nothing about validity. */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const body = key.slice(0, key.length - CHECKSUM_LENGTH);
  if (toBase62(crc32(body), CHECKSUM_LENGTH) !== match[3]) return undefined;
  return {
    kind: match[1] === 'sk' ? 'secret' : 'publishable',
    visiblePrefix: key.slice(0, VISIBLE_PREFIX_LENGTH),
  };
}

/** The stored form of a key: hex SHA-256 (64 characters, fixed length). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of the same fixed length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

/** The key in an `Authorization: Bearer <key>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
