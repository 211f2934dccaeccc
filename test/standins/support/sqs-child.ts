/**
 * Runs the SQS stand-in in its own process so a test can SIGKILL it: the one honest way to check
 * that an answered send survives a crash. Prints `{"endpoint": ...}` once listening.
 */
import { startSqsStandin } from '../../../local/standins/sqs/server';

const dir = process.argv[2];
if (!dir) throw new Error('usage: sqs-child.ts <dir>');
const sqs = await startSqsStandin({ dir });
process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint })}\n`);
