// AWS Signature Version 4 for the one request serving makes to S3: an unsigned-body GET.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
import { createHash, createHmac } from 'node:crypto';

export interface SigningKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  region: string;
}

export const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');

/**
 * Returns the request's headers plus `x-amz-date`, `x-amz-content-sha256`, the session token if any, and
 * `authorization`. Every header passed in is signed; `host` is taken from the URL.
 */
export function signRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  key: SigningKey,
  now: Date,
  service = 's3',
): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const signed: Record<string, string> = {
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': EMPTY_BODY_SHA256,
  };
  for (const [name, value] of Object.entries(headers)) signed[name.toLowerCase()] = value.trim();
  if (key.sessionToken) signed['x-amz-security-token'] = key.sessionToken;

  const names = Object.keys(signed).sort();
  const canonicalRequest = [
    method,
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    names.map((name) => `${name}:${signed[name]}\n`).join(''),
    names.join(';'),
    signed['x-amz-content-sha256'],
  ].join('\n');
  const scope = `${day}/${key.region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let signingKey: Buffer = hmac(`AWS4${key.secretAccessKey}`, day);
  for (const part of [key.region, service, 'aws4_request']) signingKey = hmac(signingKey, part);
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');

  const { host: _host, ...rest } = signed;
  return {
    ...rest,
    authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** RFC 3986 encoding of each segment; S3 signs the path as sent, without double encoding. */
function canonicalPath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
