// The Open Inference Protocol over node:http: thin, it reads bodies, decodes, calls the inference core, encodes,
// and maps the core's error kinds to status codes. No framework: routing is a switch, bodies are read once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import type { Logger } from 'pino';
import type { InferenceCore } from '../model/core.js';
import { InferenceError, invalidArgument } from '../model/errors.js';
import type { ServingMetrics } from '../metrics.js';
import type { ServerScope } from '../workers.js';
import type { AccessPolicy, Denial } from './access.js';
import { decodeInferRequest, decodeLoadRequest } from './decode.js';
import { encodeInferResponse } from './encode.js';
import { matchRoute, type Route } from './routes.js';

export interface HttpFrontOptions {
  core: InferenceCore;
  metrics: ServingMetrics;
  /** The metrics exposition and model control, for this process or for every worker. */
  scope: ServerScope;
  maxBodyBytes: number;
  access: AccessPolicy;
  logger: Logger;
}

export interface HttpFront {
  server: Server;
  /** Stops accepting connections, lets in-flight requests finish; after `timeoutMillis` cuts the rest. */
  drain(timeoutMillis: number): Promise<void>;
}

const SERVER_METADATA = JSON.stringify({
  name: 'modelops-serving',
  version: '0.1.0',
  extensions: ['binary_tensor_data', 'model_repository'],
});
const JSON_TYPE = 'application/json';
const STATUS_BY_KIND: Record<InferenceError['kind'], number> = {
  'invalid-argument': 400,
  'not-found': 404,
  unavailable: 503,
  internal: 500,
};

class PayloadTooLarge extends Error {}
class UnsupportedEncoding extends Error {}

const DECOMPRESS: Record<string, (body: Buffer, options: ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  // HTTP's "deflate" is zlib-wrapped; some clients send it raw.
  deflate: (body, options) =>
    promisify(inflate)(body, options).catch((error: NodeJS.ErrnoException) =>
      error.code === 'Z_DATA_ERROR' ? promisify(inflateRaw)(body, options) : Promise.reject(error),
    ),
};

/**
 * A compressed body (Triton's clients offer gzip and deflate), decoded with the same bound on its decoded size
 * as on the bytes received, so a small bomb cannot make us allocate more than an uncompressed body could.
 */
async function decodeContent(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  const name = encoding.trim().toLowerCase();
  if (name === 'identity') return body;
  const decompress = DECOMPRESS[name];
  if (!decompress)
    throw new UnsupportedEncoding(`Content-Encoding '${encoding}' is not supported; use gzip, deflate or identity`);
  try {
    return await decompress(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PayloadTooLarge(`decoded request body exceeds the ${limit}-byte limit`);
    throw invalidArgument(`request body is not valid ${name} data: ${(error as Error).message}`);
  }
}
/** The client went away before sending its whole body; counted as 499, as nginx does. */
class ClientClosed extends Error {}

export function createHttpFront(options: HttpFrontOptions): HttpFront {
  const { core, metrics, logger } = options;
  let draining = false;

  const send = (
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    contentType = JSON_TYPE,
    jsonLength?: number,
  ): void => {
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
    };
    if (jsonLength !== undefined) headers['inference-header-content-length'] = jsonLength;
    if (draining) headers.connection = 'close';
    res.writeHead(status, headers).end(body);
  };

  /** Answers `error` (unless the client has gone) and returns the status to count it under. */
  const sendError = (res: ServerResponse, error: unknown): number => {
    let status = 500;
    let message = 'internal error';
    if (error instanceof InferenceError) {
      status = STATUS_BY_KIND[error.kind];
      message = error.message;
    } else if (error instanceof ClientClosed) {
      return 499;
    } else if (error instanceof UnsupportedEncoding) {
      status = 415;
      message = error.message;
    } else if (error instanceof PayloadTooLarge) {
      status = 413;
      message = error.message;
      // The rest of the body is unread; the connection cannot carry another request.
      res.shouldKeepAlive = false;
    } else {
      logger.error({ err: error }, 'unexpected error handling a request');
    }
    send(res, status, JSON.stringify({ error: message }));
    return status;
  };

  /** The request body, decoded if it came compressed. */
  const readBody = (req: IncomingMessage): Promise<Buffer> => {
    const encoding = req.headers['content-encoding'];
    const raw = readRawBody(req);
    return encoding === undefined ? raw : raw.then((body) => decodeContent(body, encoding, options.maxBodyBytes));
  };

  const readRawBody = (req: IncomingMessage): Promise<Buffer> => {
    const limit = options.maxBodyBytes;
    if (Number(req.headers['content-length']) > limit) {
      return Promise.reject(
        new PayloadTooLarge(`request body of ${req.headers['content-length']} bytes exceeds the ${limit}-byte limit`),
      );
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size <= limit) return void chunks.push(chunk);
        req.off('data', onData);
        reject(new PayloadTooLarge(`request body exceeds the ${limit}-byte limit`));
      };
      req.on('data', onData);
      req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      // An IncomingMessage only fails when its connection closes mid-body (ECONNRESET 'aborted'): the client
      // left, which is no server error.
      req.on('error', () => reject(new ClientClosed('client closed the connection mid-body')));
    });
  };

  const infer = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    version: string | undefined,
  ): Promise<void> => {
    const started = performance.now();
    let status = 200;
    try {
      core.checkReady(name, version);
      const body = await readBody(req);
      const { request, binaryOutputs } = decodeInferRequest(
        body,
        headerLength(req.headers['inference-header-content-length']),
      );
      const encoded = encodeInferResponse(await core.infer(name, version, request), binaryOutputs);
      const contentType = encoded.jsonLength === undefined ? JSON_TYPE : 'application/octet-stream';
      send(res, 200, encoded.body, contentType, encoded.jsonLength);
    } catch (error) {
      status = sendError(res, error);
    }
    metrics.requestFinished(status, (performance.now() - started) / 1000);
  };

  const load = async (req: IncomingMessage, res: ServerResponse, name: string): Promise<void> => {
    checkModelName(name);
    const change = decodeLoadRequest(await readBody(req));
    core.checkLoadRequest(change);
    try {
      await options.scope.load(change);
    } catch (error) {
      throw invalidArgument(`loading model '${name}' failed: ${(error as Error).message}`);
    }
    send(res, 200, '{}');
  };

  const unload = async (res: ServerResponse, name: string): Promise<void> => {
    checkModelName(name);
    await options.scope.unload();
    send(res, 200, '{}');
  };

  const checkModelName = (name: string): void => {
    if (name !== core.modelName)
      throw new InferenceError('not-found', `unknown model '${name}'; this server serves '${core.modelName}'`);
  };

  /** 401 or 403; counted as an auth failure, and as an inference request when it was one. */
  const deny = (res: ServerResponse, route: Route, denial: Denial): void => {
    if (denial.status === 401) {
      metrics.authFailed(denial.scope, denial.reason);
      res.setHeader('www-authenticate', 'Bearer realm="modelops-serving"');
    }
    send(res, denial.status, JSON.stringify({ error: denial.error }));
    // Answered before any work was done: no duration worth a bucket above the first.
    if (route.kind === 'infer') metrics.requestFinished(denial.status, 0);
  };

  const modelReady = (res: ServerResponse, name: string, version: string | undefined): void => {
    try {
      core.checkReady(name, version);
      send(res, 200, JSON.stringify({ name, ready: true }));
    } catch (error) {
      if (error instanceof InferenceError && error.kind === 'unavailable')
        send(res, 503, JSON.stringify({ name, ready: false }));
      else throw error;
    }
  };

  /** Synchronous for the routes that answer at once; a promise for those that wait. */
  const dispatch = (req: IncomingMessage, res: ServerResponse, route: Route): void | Promise<void> => {
    switch (route.kind) {
      case 'infer':
        return infer(req, res, route.name, route.version);
      case 'live':
        return send(res, 200, '{"live":true}');
      case 'ready':
        return core.isReady() ? send(res, 200, '{"ready":true}') : send(res, 503, '{"ready":false}');
      case 'server':
        return send(res, 200, SERVER_METADATA);
      case 'model':
        return send(res, 200, JSON.stringify(core.metadata(route.name, route.version)));
      case 'model-ready':
        return modelReady(res, route.name, route.version);
      case 'load':
        return load(req, res, route.name);
      case 'unload':
        return unload(res, route.name);
      case 'repository-index':
        return send(
          res,
          200,
          JSON.stringify([
            { name: core.modelName, version: core.modelVersion, state: core.isReady() ? 'READY' : 'UNAVAILABLE' },
          ]),
        );
      case 'metrics':
        return options.scope.exposition().then((text) => send(res, 200, text, metrics.registry.contentType));
    }
  };

  const server = createServer((req, res) => {
    const match = matchRoute(req.method ?? '', req.url ?? '/');
    if ('status' in match) return void send(res, match.status, JSON.stringify({ error: match.error }));
    const denial = options.access.check(match.route.kind, req.headers.authorization);
    if (denial) return deny(res, match.route, denial);
    const fail = (error: unknown): void => {
      if (!res.headersSent) sendError(res, error);
    };
    try {
      dispatch(req, res, match.route)?.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
  // Longer than the usual 60 s idle timeout of load balancers and clients' pools, so they close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const drain = (timeoutMillis: number): Promise<void> =>
    new Promise((resolve) => {
      draining = true;
      const force = setTimeout(() => server.closeAllConnections(), timeoutMillis).unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });

  return { server, drain };
}

function headerLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw invalidArgument('Inference-Header-Content-Length must be a non-negative integer');
  }
  return Number(value);
}
