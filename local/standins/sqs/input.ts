/** Reading SQS request fields, with the service's errors for values out of range. */
import type { JsonObject } from '../http/aws-json-server';
import { sqsErrors } from './errors';
import { SQS_LIMITS } from './limits';

export function optionalInteger(
  input: JsonObject,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw sqsErrors.invalidParameterValue(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    );
  }
  return value;
}

export function requiredInteger(input: JsonObject, name: string, min: number, max: number): number {
  const value = optionalInteger(input, name, min, max);
  if (value === undefined) throw sqsErrors.missingParameter(name);
  return value;
}

export function stringList(input: JsonObject, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw sqsErrors.invalidParameterValue(`${name} must be a list of strings.`);
  }
  return value as string[];
}

export function stringMap(input: JsonObject, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw sqsErrors.invalidParameterValue(`${name} must be a map.`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw sqsErrors.invalidParameterValue(`${name}.${key} must be a string.`);
    result[key] = item;
  }
  return result;
}

const BATCH_ENTRY_ID = new RegExp(`^[A-Za-z0-9_-]{1,${SQS_LIMITS.batchEntryIdLength}}$`);

/** The Entries of a batch call, checked as SQS checks them before looking at any entry. */
export function batchEntries(input: JsonObject): (JsonObject & { Id: string })[] {
  const entries = input.Entries;
  if (entries === undefined || entries === null || (Array.isArray(entries) && entries.length === 0)) {
    throw sqsErrors.emptyBatchRequest();
  }
  if (!Array.isArray(entries)) throw sqsErrors.invalidParameterValue('Entries must be a list.');
  if (entries.length > SQS_LIMITS.batchEntries) throw sqsErrors.tooManyEntriesInBatchRequest(entries.length);
  const seen = new Set<string>();
  for (const entry of entries) {
    const id = (entry as JsonObject | null)?.Id;
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) throw sqsErrors.invalidBatchEntryId();
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return entries as (JsonObject & { Id: string })[];
}
