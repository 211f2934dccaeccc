import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../lambdas/shared/describe-error';

describe('Function: describeError', () => {
  it('names the kind of error: a code (SQLSTATE, Node), an AWS error name, or nothing for a plain Error', () => {
    const sql = Object.assign(new Error('relation "x" does not exist'), { code: '42P01' });
    const aws = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });

    expect(describeError(sql)).toBe('42P01: relation "x" does not exist');
    expect(describeError(aws)).toBe('ConditionalCheckFailedException: The conditional request failed');
    expect(describeError(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('a string')).toBe('a string');
  });
});
