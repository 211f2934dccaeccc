import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../local/free-port';

describe('Function: freePorts', () => {
  it('hands out distinct ports, all free again once it returns', async () => {
    const ports = await freePorts(20);

    expect(new Set(ports).size).toBe(20);
    // Every probe was closed: each port can be bound again at once.
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.on('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });
});
