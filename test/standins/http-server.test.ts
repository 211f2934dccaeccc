/**
 * Stopping a local server while a keep-alive client is mid-request: the answer is delivered, and the
 * connection is closed after it instead of holding the stop for the whole grace period (Ctrl-C on
 * `npm start` during a load test).
 */
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../../local/standins/http/http-server';

describe('Function: startHttpServer (close)', () => {
  it('answers the request in flight, then closes its keep-alive connection without waiting out the grace', async () => {
    // Prepare: a slow answer, and a client that keeps connections alive.
    let arrived: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const server = await startHttpServer((_request, response) => {
      arrived();
      setTimeout(() => response.end('late but whole'), 300);
    });
    const agent = new Agent({ keepAlive: true });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(server.endpoint, { agent }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      })
        .on('error', reject)
        .end();
    });
    await inFlight;

    // Act: a grace far longer than the test may take.
    const outcome = await Promise.race([
      server.close(60_000).then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for the grace'), 10_000)),
    ]);

    // Assess
    expect(outcome).toBe('closed');
    expect(await answered).toEqual({ status: 200, body: 'late but whole' });
    agent.destroy();
  }, 15_000);
});
