/**
 * An HTTP proxy that puts the same faults in front of a server we did not write (dynalite, s3rver):
 * the client talks to the proxy's port, the proxy forwards to the real server unless the
 * FaultController says otherwise. `/__faults` on the proxy port controls it.
 */
import { setMaxListeners } from 'node:events';
import { Agent, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import { sleep } from '../../sleep';
import type { InjectedErrorKind } from '../http/aws-json-server';
import { LOCALHOST, type RunningHttpServer, startHttpServer } from '../http/http-server';
import { handleAdminRequest, isAdminRequest } from './admin-endpoint';
import { FaultController } from './fault-controller';

export interface ProxyErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

interface FaultProxyOptions {
  readonly target: { readonly host: string; readonly port: number };
  readonly port?: number;
  readonly faults: FaultController;
  /** The service operation a request is, matched against FaultSettings.operations. */
  readonly operationOf: (request: IncomingMessage) => string;
  readonly errorResponse: (kind: InjectedErrorKind) => ProxyErrorResponse;
}

/** A stand-in made of a server we did not write behind its own fault proxy. */
export interface ProxiedStandin {
  /** The proxy's address: where clients go. */
  readonly endpoint: string;
  readonly port: number;
  readonly faults: FaultController;
  /** Closes the proxy, then the server behind it. */
  stop(): Promise<void>;
}

interface ProxiedStandinOptions extends Omit<FaultProxyOptions, 'target' | 'faults'> {
  /** The server's own port on 127.0.0.1. */
  readonly innerPort: number;
  readonly stopInner: () => Promise<void>;
}

/**
 * Puts a fault proxy (and its FaultController) in front of a server listening on 127.0.0.1. If the
 * proxy cannot start (its port is taken), the inner server is stopped before the error is thrown.
 */
export async function startProxiedStandin(options: ProxiedStandinOptions): Promise<ProxiedStandin> {
  const { innerPort, stopInner, ...proxyOptions } = options;
  const faults = new FaultController();
  let proxy: RunningHttpServer;
  try {
    proxy = await startFaultProxy({
      ...proxyOptions,
      target: { host: LOCALHOST, port: innerPort },
      faults,
    });
  } catch (error) {
    await stopInner();
    throw error;
  }
  return {
    endpoint: proxy.endpoint,
    port: proxy.port,
    faults,
    async stop() {
      await proxy.close();
      await stopInner();
    },
  };
}

async function startFaultProxy(options: FaultProxyOptions): Promise<RunningHttpServer> {
  const agent = new Agent({ keepAlive: true });
  const lifetime = new AbortController();
  setMaxListeners(0, lifetime.signal); // one listener per delayed call in flight
  const running = await startHttpServer((request, response) => {
    void handle(options, agent, lifetime.signal, request, response).catch(() => response.destroy());
  }, options.port ?? 0);
  return {
    ...running,
    async close(graceMs?: number) {
      lifetime.abort();
      await running.close(graceMs);
      agent.destroy();
    },
    kill() {
      lifetime.abort();
      running.kill();
      agent.destroy();
    },
  };
}

async function handle(
  options: FaultProxyOptions,
  agent: Agent,
  signal: AbortSignal,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (isAdminRequest(request)) return handleAdminRequest(options.faults, request, response);
  const decision = options.faults.decide(options.operationOf(request));
  await sleep(decision.delayMs, signal);
  // A caller that gave up, or a proxy that is stopping, must not have its call forwarded late.
  if (signal.aborted || request.destroyed || response.destroyed || decision.kind === 'drop-request') {
    request.socket.destroy();
    return;
  }
  if (decision.kind !== 'pass') {
    request.resume(); // drain the body so the connection stays usable
    const error = options.errorResponse(decision.kind);
    response.writeHead(error.status, { ...error.headers, 'content-length': Buffer.byteLength(error.body) });
    response.end(error.body);
    return;
  }
  const upstream = forward({
    host: options.target.host,
    port: options.target.port,
    method: request.method,
    path: request.url,
    headers: request.headers,
    agent,
  });
  upstream.on('error', () => response.destroy());
  upstream.on('response', (answer) => {
    if (decision.dropResponse) {
      // The server did the work; the client never learns the outcome.
      answer.resume();
      answer.on('end', () => request.socket.destroy());
      return;
    }
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  request.pipe(upstream);
}
