/**
 * The AWS JSON RPC protocol (1.0 for SQS, 1.1 for Firehose) as a request handler: `POST /` with
 * `X-Amz-Target: <Prefix>.<Operation>` and a JSON body, answered with JSON or a JSON error whose
 * `__type` names the error shape. Faults from the server's FaultController are applied here, so every
 * operation of every JSON stand-in gets them the same way.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../../sleep';
import { handleAdminRequest, isAdminRequest } from '../faults/admin-endpoint';
import { FaultController } from '../faults/fault-controller';
import { type RequestHandler, startHttpServer } from './http-server';
import { BodyTooLargeError, readBody } from './read-body';

export type JsonObject = Record<string, unknown>;

export interface OperationContext {
  /** Aborted when the client goes away or the server stops (long polls end early on it). */
  readonly signal: AbortSignal;
  readonly requestId: string;
}

export type JsonOperation = (input: JsonObject, context: OperationContext) => unknown;

export interface WireError {
  readonly status: number;
  readonly body: { readonly __type: string; readonly message: string } & JsonObject;
  readonly headers?: Readonly<Record<string, string>>;
}

export type InjectedErrorKind = 'down' | 'throttle' | 'error';

export interface AwsJsonService {
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  readonly maxBodyBytes: number;
  readonly operations: Readonly<Record<string, JsonOperation>>;
  /** Maps whatever an operation throws to the wire; unknown errors must become a 500. */
  errorFor(error: unknown): WireError;
  /** The service's own answer for an injected fault. */
  injectedError(kind: InjectedErrorKind): WireError;
  /** Errors of the protocol itself (bad JSON, unknown target, body too large). */
  protocolError(kind: 'serialization' | 'unknown-operation' | 'too-large', message: string): WireError;
}

/** A JSON stand-in's server: its address, its faults, and its two ways to end. */
interface AwsJsonServer {
  readonly endpoint: string;
  readonly port: number;
  readonly faults: FaultController;
  /** Ends the calls in flight (waiting long polls answer empty), then closes the port. */
  close(): Promise<void>;
  /** Crash: every socket destroyed at once. */
  kill(): void;
}

/** Serves a service on 127.0.0.1 with a FaultController of its own, which `build` receives. */
export async function startAwsJsonServer(
  build: (faults: FaultController) => AwsJsonService,
  port = 0,
): Promise<AwsJsonServer> {
  const faults = new FaultController();
  const lifetime = new AbortController();
  const http = await startHttpServer(createAwsJsonHandler(build(faults), faults, lifetime.signal), port);
  return {
    endpoint: http.endpoint,
    port: http.port,
    faults,
    async close() {
      lifetime.abort();
      await http.close();
    },
    kill() {
      lifetime.abort();
      http.kill();
    },
  };
}

function createAwsJsonHandler(
  service: AwsJsonService,
  faults: FaultController,
  serverSignal: AbortSignal,
): RequestHandler {
  // One listener per request in flight (long polls): not a leak, so no warning past 10.
  setMaxListeners(0, serverSignal);
  return (request, response) => {
    void handle(service, faults, serverSignal, request, response).catch((error: unknown) => {
      if (!response.headersSent)
        writeError(response, service.errorFor(error), service.jsonVersion, randomUUID());
      else response.destroy();
    });
  };
}

async function handle(
  service: AwsJsonService,
  faults: FaultController,
  serverSignal: AbortSignal,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (isAdminRequest(request)) return handleAdminRequest(faults, request, response);
  const requestId = randomUUID();
  const target = String(request.headers['x-amz-target'] ?? '');
  const prefix = `${service.targetPrefix}.`;
  const operationName = target.startsWith(prefix) ? target.slice(prefix.length) : '';

  const decision = faults.decide(operationName);
  await sleep(decision.delayMs, serverSignal);
  // A caller that gave up, or a server that is stopping, must not have its call processed late.
  if (serverSignal.aborted || request.destroyed || response.destroyed || decision.kind === 'drop-request') {
    request.socket.destroy();
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(request, service.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return writeError(
        response,
        service.protocolError('too-large', error.message),
        service.jsonVersion,
        requestId,
      );
    }
    throw error;
  }
  if (decision.kind !== 'pass') {
    return writeError(response, service.injectedError(decision.kind), service.jsonVersion, requestId);
  }
  if (request.method !== 'POST') {
    const error = service.protocolError(
      'unknown-operation',
      `${request.method} is not supported; use POST /`,
    );
    return writeError(response, error, service.jsonVersion, requestId);
  }
  const operation = Object.hasOwn(service.operations, operationName)
    ? service.operations[operationName]
    : undefined;
  if (!operation) {
    const error = service.protocolError(
      'unknown-operation',
      `Unknown operation: ${target || '(no X-Amz-Target)'}`,
    );
    return writeError(response, error, service.jsonVersion, requestId);
  }
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    return writeError(
      response,
      service.protocolError('serialization', 'Malformed JSON body'),
      service.jsonVersion,
      requestId,
    );
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const error = service.protocolError('serialization', 'The request body must be a JSON object');
    return writeError(response, error, service.jsonVersion, requestId);
  }

  // Ends when the client goes away or the server stops (AbortSignal.any would retain every request's
  // signal on the long-lived server signal in Node 20).
  const ended = new AbortController();
  const end = (): void => ended.abort();
  if (serverSignal.aborted) end();
  serverSignal.addEventListener('abort', end, { once: true });
  response.on('close', () => {
    serverSignal.removeEventListener('abort', end);
    end();
  });
  let output: unknown;
  try {
    output = await operation(input as JsonObject, { signal: ended.signal, requestId });
  } catch (error) {
    if (decision.dropResponse) return void request.socket.destroy();
    return writeError(response, service.errorFor(error), service.jsonVersion, requestId);
  }
  if (decision.dropResponse) {
    request.socket.destroy();
    return;
  }
  writeJson(response, 200, output ?? {}, service.jsonVersion, requestId);
}

function writeError(response: ServerResponse, error: WireError, version: string, requestId: string): void {
  writeJson(response, error.status, error.body, version, requestId, error.headers);
}

function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  version: string,
  requestId: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  response.end(text);
}
