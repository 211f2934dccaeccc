/**
 * Starts a Node HTTP server on 127.0.0.1 and gives it two ways to end: `close()` (stop accepting,
 * let answers in flight finish, closing each connection as its answer is sent; whatever is left
 * after the grace period is cut) and `kill()` (destroy every socket
 * now, as a crashed process would).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface RunningHttpServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  close(graceMs?: number): Promise<void>;
  kill(): void;
}

export const LOCALHOST = '127.0.0.1';

/** Listens on `port`, or on a port the kernel picks (0), which cannot race with another process. */
export async function startHttpServer(handler: RequestHandler, port = 0): Promise<RunningHttpServer> {
  // Answers in flight, so that close() can end their keep-alive connections once they are sent
  // (closeIdleConnections() only reaches connections idle at that moment).
  const inFlight = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
    handler(request, response);
  });
  // The SDK keeps sockets alive for reuse; outliving its idle timeout avoids resets on reuse.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOCALHOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    endpoint: `http://${LOCALHOST}:${actualPort}`,
    async close(graceMs = 2_000) {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const response of inFlight) {
        if (!response.headersSent) response.shouldKeepAlive = false;
        response.once('close', () => server.closeIdleConnections());
      }
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
    kill() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) server.close();
    },
  };
}
