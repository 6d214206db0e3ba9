// Reads the bytes behind a model or reference URI: a local (mounted) path or file://, http(s)://, or
// s3://bucket/key signed with SigV4 against AWS or any S3-compatible endpoint.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Credentials } from '../config.js';
import { signRequest } from './sigv4.js';

/** The URI names nothing (missing file, HTTP 404): callers decide whether that is an error. */
export class NotFoundError extends Error {
  constructor(uri: string, detail: string) {
    super(`${uri} not found (${detail})`);
    this.name = 'NotFoundError';
  }
}

export interface FetchOptions {
  s3: S3Credentials | undefined;
  timeoutMillis: number;
}

export type Fetcher = (uri: string) => Promise<Uint8Array>;

export function createFetcher(options: FetchOptions): Fetcher {
  return async (uri) => {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
    switch (scheme) {
      case undefined:
        return readLocal(uri, uri);
      case 'file':
        return readLocal(fileURLToPath(uri), uri);
      case 'http':
      case 'https':
        return httpGet(new URL(uri), {}, options.timeoutMillis, uri);
      case 's3':
        return s3Get(uri, options);
      default:
        throw new Error(`unsupported URI scheme "${scheme}" in ${uri} (use a path, file://, http(s):// or s3://)`);
    }
  };
}

/** `reference.json` in the same folder (or key prefix) as the model. */
export function siblingUri(uri: string, fileName: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return new URL(fileName, uri).toString();
  return join(dirname(uri), fileName);
}

async function readLocal(path: string, uri: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(uri, 'no such file');
    throw error;
  }
}

async function httpGet(
  url: URL,
  headers: Record<string, string>,
  timeoutMillis: number,
  uri: string,
): Promise<Uint8Array> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMillis) });
  if (response.status === 404) throw new NotFoundError(uri, 'HTTP 404');
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 200);
    throw new Error(`GET ${uri} failed: HTTP ${response.status} ${detail}`.trim());
  }
  return readBody(response, uri);
}

/**
 * The body into one buffer of its announced size, filled as the chunks arrive: half the copying of
 * arrayBuffer(), which gathers the chunks and then joins them (it shows on a 100 MB model's cold start).
 */
async function readBody(response: Response, uri: string): Promise<Uint8Array> {
  const length = Number(response.headers.get('content-length'));
  // A compressed body's Content-Length is not the size fetch hands us once it has decoded it.
  if (!response.body || response.headers.has('content-encoding') || !Number.isSafeInteger(length) || length <= 0)
    return new Uint8Array(await response.arrayBuffer());
  const bytes = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of response.body) {
    if (offset + chunk.length > length) throw new Error(`GET ${uri}: more bytes than its Content-Length ${length}`);
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== length) throw new Error(`GET ${uri}: ${offset} of its ${length} bytes arrived`);
  return bytes;
}

async function s3Get(uri: string, options: FetchOptions): Promise<Uint8Array> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(uri);
  if (!match) throw new Error(`S3 URI must look like s3://bucket/key, got ${uri}`);
  const [, bucket = '', key = ''] = match;
  if (!options.s3) throw new Error(`${uri} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  const url = s3ObjectUrl(bucket, key, options.s3);
  const headers = signRequest('GET', url, {}, options.s3, new Date());
  return httpGet(url, headers, options.timeoutMillis, uri);
}

/** Path-style on a custom endpoint (what MinIO and friends expect), virtual-hosted on AWS. */
export function s3ObjectUrl(bucket: string, key: string, s3: Pick<S3Credentials, 'endpointUrl' | 'region'>): URL {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (s3.endpointUrl) return new URL(`${s3.endpointUrl.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}/${path}`);
  return new URL(`https://${bucket}.s3.${s3.region}.amazonaws.com/${path}`);
}
