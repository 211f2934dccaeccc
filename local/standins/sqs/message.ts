/**
 * Message content rules: body characters, message attributes, size, and the MD5 digests SQS returns
 * (the SDK rejects a SendMessage/ReceiveMessage answer whose body MD5 does not match).
 * Pure; throws SqsError.
 */
import { createHash } from 'node:crypto';
import { sqsErrors } from './errors';
import { SQS_LIMITS } from './limits';

/** Binary values are kept base64-encoded, as they travel in the JSON protocol. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

// Characters SQS accepts in a body or string attribute: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[^\s]{1,240})?$/;

export function validateBody(body: unknown): string {
  if (typeof body !== 'string' || body === '') throw sqsErrors.missingParameter('MessageBody');
  if (INVALID_CHARACTER.test(body)) throw sqsErrors.invalidMessageContents();
  return body;
}

export function validateMessageAttributes(input: unknown, kind: 'message' | 'system'): MessageAttributes {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw sqsErrors.invalidParameterValue('Message attributes must be a map.');
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > SQS_LIMITS.messageAttributes) {
    throw sqsErrors.invalidParameterValue(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${SQS_LIMITS.messageAttributes}].`,
    );
  }
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of entries) {
    if (kind === 'system' && name !== 'AWSTraceHeader') {
      throw sqsErrors.invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    }
    if (kind === 'message') validateAttributeName(name);
    result[name] = validateAttributeValue(name, raw);
  }
  return result;
}

function validateAttributeName(name: string): void {
  const lower = name.toLowerCase();
  if (
    !ATTRIBUTE_NAME.test(name) ||
    name.startsWith('.') ||
    name.endsWith('.') ||
    name.includes('..') ||
    lower.startsWith('aws.') ||
    lower.startsWith('amazon.')
  ) {
    throw sqsErrors.invalidParameterValue(`Message attribute name '${name}' is invalid.`);
  }
}

function validateAttributeValue(name: string, raw: unknown): MessageAttributeValue {
  const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const dataType = value.DataType;
  if (typeof dataType !== 'string' || !DATA_TYPE.test(dataType)) {
    throw sqsErrors.invalidParameterValue(
      `The message attribute '${name}' has an invalid message attribute type.`,
    );
  }
  if (dataType.startsWith('Binary')) {
    const binary = value.BinaryValue;
    if (typeof binary !== 'string' || binary === '') {
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain a non-empty message attribute value.`,
      );
    }
    return { DataType: dataType, BinaryValue: binary };
  }
  const text = value.StringValue;
  if (typeof text !== 'string' || text === '') {
    throw sqsErrors.invalidParameterValue(
      `The message attribute '${name}' must contain a non-empty message attribute value.`,
    );
  }
  if (INVALID_CHARACTER.test(text)) throw sqsErrors.invalidMessageContents();
  if (dataType.startsWith('Number') && !Number.isFinite(Number(text))) {
    throw sqsErrors.invalidParameterValue(
      `Can't cast the value of message (user) attribute '${name}' to a number.`,
    );
  }
  return { DataType: dataType, StringValue: text };
}

/** The size SQS counts against MaximumMessageSize: body plus each attribute's name, type and value. */
export function messageSize(body: string, attributes: MessageAttributes): number {
  let size = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size +=
      value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, 'base64').length
        : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/**
 * MD5 over attributes as SQS defines it: names sorted; for each, length-prefixed (4-byte big-endian)
 * name and data type, a transport byte (1 string/number, 2 binary), then the length-prefixed value.
 */
export function md5OfAttributes(attributes: MessageAttributes): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of names) {
    const value = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

const GROUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

export function validateGroupId(groupId: unknown): string | undefined {
  if (groupId === undefined || groupId === null) return undefined;
  if (typeof groupId !== 'string' || !GROUP_ID.test(groupId)) {
    throw sqsErrors.invalidParameterValue(
      `Value ${String(groupId)} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  }
  return groupId;
}

/** Selects the attributes a receiver asked for: `All`, `.*`, exact names, or `prefix.*`. */
export function selectAttributes(
  attributes: MessageAttributes,
  requested: readonly string[],
): MessageAttributes {
  if (requested.length === 0) return {};
  const all = requested.includes('All') || requested.includes('.*');
  const selected: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted =
      all ||
      requested.some((pattern) =>
        pattern.endsWith('.*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name,
      );
    if (wanted) selected[name] = value;
  }
  return selected;
}
