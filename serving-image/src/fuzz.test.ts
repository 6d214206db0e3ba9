/** @jest-environment ./serving-image/test/ort-environment.mjs */
// 10 000 random and mutated infer requests: none may get a 5xx, and the server must still serve afterwards.
import { inferBody, startServer, type TestServer } from '../test/harness.js';

const REQUESTS = 10_000;
const CONCURRENCY = 16;
// Only a guard against a hang, not a speed limit: 10 000 requests take ~10 s on a quiet 2-core machine and
// several times that on a loaded one.
const HANG_GUARD_MS = 600_000;

/** mulberry32: a small seeded PRNG, so a failure is reproducible from the seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(0x5eed);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

function randomValue(depth = 0): unknown {
  switch (int(depth > 2 ? 6 : 8)) {
    case 0:
      return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 30, 4294967296]);
    case 1:
      return pick(['', 'features', 'FP32', 'probabilities', 'BYTES', 'x'.repeat(int(100))]);
    case 2:
      return random() < 0.5;
    case 3:
      return null;
    case 4:
      return int(1000) - 500;
    case 5:
      return random() * 100;
    case 6:
      return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: int(4) }, () => [
          pick(['name', 'shape', 'datatype', 'data', 'parameters', 'binary_data_size', 'binary_data', 'z']),
          randomValue(depth + 1),
        ]),
      );
  }
}

type Json = Record<string, unknown>;
/** A valid request with one or more of its fields replaced, removed or bent. */
function mutateJson(): string {
  const body = JSON.parse(inferBody(1 + int(3))) as Json;
  const input = (body.inputs as Json[])[0]!;
  for (let n = 1 + int(3); n > 0; n--) {
    switch (int(9)) {
      case 0:
        input[pick(['name', 'shape', 'datatype', 'data', 'parameters'])] = randomValue();
        break;
      case 1:
        delete input[pick(['name', 'shape', 'datatype', 'data'])];
        break;
      case 2:
        if (Array.isArray(input.data)) input.data[int(30)] = randomValue();
        break;
      case 3:
        input.shape = Array.from({ length: int(4) }, () => pick([0, 1, 2, 30, -1, 1e9, 2 ** 40]));
        break;
      case 4:
        input.parameters = { binary_data_size: pick([0, 120, 4, -1, 1e12, 'x']) };
        break;
      case 5:
        body.outputs = randomValue();
        break;
      case 6:
        body.parameters = { binary_data_output: randomValue() };
        break;
      case 7:
        body[pick(['id', 'inputs', 'outputs', 'parameters'])] = randomValue();
        break;
      default:
        if (Array.isArray(body.inputs)) body.inputs.push(randomValue());
    }
  }
  return JSON.stringify(body);
}

/** A valid body with bytes flipped, cut or spliced in. */
function mutateBytes(): Buffer {
  const bytes = Buffer.from(inferBody(1 + int(2)));
  switch (int(3)) {
    case 0:
      for (let n = 1 + int(8); n > 0; n--) bytes[int(bytes.length)] = int(256);
      return bytes;
    case 1:
      return bytes.subarray(0, int(bytes.length));
    default: {
      const at = int(bytes.length);
      return Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from(Array.from({ length: int(16) }, () => int(256))),
        bytes.subarray(at),
      ]);
    }
  }
}

function randomRequest(): { path: string; body: Buffer | string; headers: Record<string, string> } {
  const path =
    random() < 0.9
      ? '/v2/models/fraud/infer'
      : pick([
          '/v2/models/fraud/versions/1/infer',
          '/v2/models/fraud/versions/x/infer',
          '/v2/models/%ff/infer',
          '/v2//infer',
        ]);
  const body = random() < 0.6 ? mutateJson() : mutateBytes();
  const headers: Record<string, string> = {};
  if (random() < 0.15)
    headers['Inference-Header-Content-Length'] = String(
      pick([0, 1, Buffer.byteLength(body) - int(20), Buffer.byteLength(body) + 1, -5]),
    );
  return { path, body, headers };
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_BODY_BYTES: '640' });
});
afterAll(() => server.close());

test(
  `${REQUESTS} random and mutated requests: no 5xx, and the server keeps serving`,
  async () => {
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        next++;
        const { path, body, headers } = randomRequest();
        const response = await server.request('POST', path, body, headers);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500)
          throw new Error(
            `${response.status} for ${path} ${JSON.stringify(headers)} ${body.toString().slice(0, 300)}: ${response.body}`,
          );
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect([...statuses.values()].reduce((a, b) => a + b)).toBe(REQUESTS);
    // Mostly rejected, some still valid after mutation, some for an unknown version or an undecodable name.
    expect(statuses.get(400)).toBeGreaterThan(REQUESTS / 2);
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(404)).toBeGreaterThan(100);
    expect([...statuses.keys()].sort()).toEqual([200, 400, 404, 413]);
    expect((await server.request('GET', '/v2/health/ready')).status).toBe(200);
    expect((await server.request('POST', '/v2/models/fraud/infer', inferBody())).status).toBe(200);
  },
  HANG_GUARD_MS,
);
