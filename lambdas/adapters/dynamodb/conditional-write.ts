import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * The output of a conditional write, or undefined when its condition did not hold: for the writes
 * where "someone got there first" is an answer, not an error. Any other failure is thrown.
 */
export async function ifConditionHolds<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
