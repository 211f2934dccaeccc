/**
 * What every ops command gets (parsed options) and returns (lines, or an object with --json), and
 * the checks of its options: a bad value stops the command with the option's name, before it acts.
 */
import { isTier, type Tier } from '../lambdas/core/tiers';
import { OpsError } from './target';

export interface CommandOptions {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

export type Output = { lines: string[]; json: unknown };

/** A text option's value, or undefined; `required` makes its absence an error. */
export function text(options: CommandOptions, name: string, required = false): string | undefined {
  const value = options.values[name];
  if (typeof value === 'string' && value !== '') return value;
  if (required) throw new OpsError(`--${name} is required.`);
  return undefined;
}

export function tier(value: string | undefined, fallback: Tier = 'standard'): Tier {
  const chosen = value ?? fallback;
  if (!isTier(chosen)) throw new OpsError(`--tier must be free, standard or enterprise (got "${chosen}").`);
  return chosen;
}

/** A whole-number option of 1 or more (at most `max`), `fallback` when absent. */
export function wholeNumber(
  options: CommandOptions,
  name: string,
  { fallback, max, unit }: { fallback?: number; max?: number; unit?: string } = {},
): number | undefined {
  const value = options.values[name];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || (max !== undefined && number > max)) {
    throw new OpsError(
      `--${name} must be a whole number${unit ? ` of ${unit}` : ''} ${max === undefined ? '1 or more' : `from 1 to ${max}`} ` +
        `(got "${String(value)}").`,
    );
  }
  return number;
}
