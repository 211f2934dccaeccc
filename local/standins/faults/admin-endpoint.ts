/**
 * `/__faults` on every stand-in's own port. No AWS SDK call can reach it by accident: SQS, Firehose
 * and DynamoDB only ever `POST /`, and S3 bucket names cannot contain underscores.
 *
 *   GET    /__faults            → {"settings": {...}, "stats": {...}}
 *   POST   /__faults  {partial} → merges the partial settings, answers as GET
 *   DELETE /__faults            → back to no faults, answers as GET
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http/read-body';
import { type FaultController, InvalidFaultSettingsError, parseFaultSettings } from './fault-controller';

export const ADMIN_PATH = '/__faults';

export function isAdminRequest(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?')[0];
  return path === ADMIN_PATH;
}

export async function handleAdminRequest(
  faults: FaultController,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    if (request.method === 'POST') {
      const raw = (await readBody(request, 64 * 1024)).toString('utf8');
      faults.set(parseFaultSettings(raw.trim() === '' ? {} : JSON.parse(raw)));
    } else if (request.method === 'DELETE') {
      faults.reset();
    } else if (request.method !== 'GET') {
      return send(response, 405, { error: 'use GET, POST or DELETE' });
    }
    send(response, 200, { settings: faults.get(), stats: faults.stats() });
  } catch (error) {
    const bad = error instanceof InvalidFaultSettingsError || error instanceof SyntaxError;
    send(response, bad ? 400 : 500, { error: error instanceof Error ? error.message : String(error) });
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
