// Test support: the serving app in-process on an ephemeral port, and a keep-alive HTTP client for it.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createApp, type ServingApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

export const FIXTURES = 'serving-image/test/fixtures';
export const MODEL_PATH = `${FIXTURES}/model.onnx`;
export const SAMPLES = JSON.parse(readFileSync(`${FIXTURES}/samples.json`, 'utf8')) as {
  features: number[][];
  probabilities: number[][];
};

/** Model control (the load and unload routes) on, with this bearer token. */
export const CONTROL_KEY = 'control-key-for-tests';
export const CONTROL_ENV = { MODEL_CONTROL: 'enabled', MODEL_CONTROL_KEY: CONTROL_KEY };
export const CONTROL_HEADERS = { Authorization: `Bearer ${CONTROL_KEY}` };

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: () => Record<string, unknown>;
}

export interface TestServer {
  app: ServingApp;
  port: number;
  logs: Record<string, unknown>[];
  /** Resolves with the first log line, past or future, that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  request(
    method: string,
    path: string,
    body?: string | Buffer,
    headers?: Record<string, string | number>,
  ): Promise<Response>;
  close(): Promise<void>;
}

/** Starts the app like main.ts does (model "fraud", the fixture model), and waits for the first load to settle. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({
    MODEL_URI: MODEL_PATH,
    MODEL_NAME: 'fraud',
    PORT: '0',
    HOST: '127.0.0.1',
    MODEL_LOAD_RETRY_INTERVAL: '0',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }>();
  const logger = pino(
    { level: 'info' },
    {
      write: (text: string) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        for (const waiter of waiters) {
          if (!waiter.match(line)) continue;
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      },
    },
  );
  const app = createApp(config, logger);
  const { port } = await app.listen();
  await app.core.start();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return {
    app,
    port,
    logs,
    waitForLog: (match) => {
      const seen = logs.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.add({ match, resolve }));
    },
    request: (method, path, body, headers) => send(agent, port, method, path, body, headers),
    async close() {
      agent.destroy();
      await app.shutdown();
    },
  };
}

function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes,
          json: () => JSON.parse(bytes.toString()) as Record<string, unknown>,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A valid JSON infer body for `rows` sample rows. */
export function inferBody(rows = 1, extra: Record<string, unknown> = {}): string {
  const data = Array.from({ length: rows }, (_, i) => SAMPLES.features[i % SAMPLES.features.length]!).flat();
  return JSON.stringify({ inputs: [{ name: 'features', shape: [rows, 30], datatype: 'FP32', data }], ...extra });
}

/** Parses Prometheus text exposition into sample lines: name, labels, value. */
export function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}
