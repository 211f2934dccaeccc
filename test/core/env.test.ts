import { describe, expect, it } from 'vitest';
import { TIERS } from '../../lambdas/core/tiers';
import { ENV, readEnv, readNumberEnv, readOneOfEnv } from '../../lambdas/shared/env';

describe('Shared: the checked environment reader', () => {
  it('names a missing variable and where it comes from', () => {
    expect(() => readEnv(ENV.ledgerTable, {})).toThrow(
      /LEDGER_TABLE is not set\. It is set by the CDK app and by 'npm start'/,
    );
    expect(() => readEnv(ENV.ledgerTable, { LEDGER_TABLE: '' })).toThrow(/is not set/);
  });

  it('refuses a number that is not one', () => {
    expect(readNumberEnv(ENV.maxBodyBytes, { MAX_BODY_BYTES: '1024' })).toBe(1024);
    expect(() => readNumberEnv(ENV.maxBodyBytes, { MAX_BODY_BYTES: '1kb' })).toThrow(/"1kb", not a number/);
  });

  it('refuses a value outside its set, such as an unknown default tier', () => {
    expect(readOneOfEnv(ENV.defaultTier, TIERS, { DEFAULT_TIER: 'standard' })).toBe('standard');
    expect(() => readOneOfEnv(ENV.defaultTier, TIERS, { DEFAULT_TIER: 'gold' })).toThrow(
      /DEFAULT_TIER is "gold", not one of free, standard, enterprise/,
    );
  });
});
