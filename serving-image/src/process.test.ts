// The entrypoint as a real process: configuration errors, SIGHUP reload, and SIGTERM draining in-flight requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { CONTROL_ENV, CONTROL_HEADERS, inferBody, MODEL_PATH, parseExposition } from '../test/harness.js';

interface Running {
  child: ChildProcess;
  /** Resolves with the first log line (parsed) that matches. */
  logLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'serving-image/src/main.ts'], {
    env: { PATH: process.env.PATH, MODEL_URI: MODEL_PATH, MODEL_NAME: 'fraud', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.match(line))) waiter.resolve(line);
  });
  return {
    child,
    logLine: (match) => {
      const seen = lines.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const message = (text: string) => (line: Record<string, unknown>) => line.msg === text;

test('a configuration error exits 1 with every problem in one log line', async () => {
  const { child, logLine } = run({ PORT: 'eighty', BATCH_MAX_QUEUE_DELAY: 'soon' });
  const line = await logLine((l) => l.level === 60);
  expect(line.msg).toMatch(
    /PORT must be an integer from 0 to 65535, got "eighty"; BATCH_MAX_QUEUE_DELAY must be a duration/,
  );
  const [code] = await once(child, 'exit');
  expect(code).toBe(1);
}, 20_000);

test('SIGHUP reloads; SIGTERM stops accepting, finishes the request in flight and exits 0', async () => {
  const { child, logLine } = run({});
  const { port } = (await logLine(message('listening; ready once the model is loaded'))) as { port: number };
  await logLine(message('model loaded, warmed and serving'));

  child.kill('SIGHUP');
  let loads = 0;
  await logLine((l) => l.msg === 'model loaded, warmed and serving' && ++loads === 2);

  // A request whose headers the server has accepted (it answered 100-continue) but whose body is still coming.
  const body = inferBody(2);
  const inFlight = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v2/models/fraud/infer',
    headers: { 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  inFlight.flushHeaders();
  await once(inFlight, 'continue');
  child.kill('SIGTERM');
  await logLine(message('draining: no new connections, finishing in-flight requests'));

  const refused = request({ host: '127.0.0.1', port, path: '/v2/health/live' }).end();
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  // Refused, or reset when the connect raced the listening socket's close: either way, not served.
  expect(['ECONNREFUSED', 'ECONNRESET']).toContain(error.code);

  inFlight.end(body);
  const [response] = await once(inFlight, 'response');
  expect(response.statusCode).toBe(200);
  expect(response.headers.connection).toBe('close');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
}, 20_000);

describe('WORKERS=2', () => {
  const call = (port: number, method: string, path: string, body = '', headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      // A connection per request: node:cluster hands connections to the workers in turn.
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  test('two workers share the port; metrics and model control answer for the whole server', async () => {
    const { child, logLine } = run({ WORKERS: '2', ...CONTROL_ENV });
    await logLine((l) => l.msg === 'starting workers' && l.workers === 2);
    let loaded = 0;
    await logLine((l) => l.msg === 'model loaded, warmed and serving' && ++loaded === 2);
    const { port } = (await logLine(message('listening; ready once the model is loaded'))) as { port: number };

    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => call(port, 'POST', '/v2/models/fraud/infer', inferBody()).then((r) => r.status)),
    );
    expect(statuses).toEqual(statuses.map(() => 200));
    // Each worker served some of them; whichever answers /metrics counts all 20.
    for (let i = 0; i < 2; i++) {
      const samples = parseExposition((await call(port, 'GET', '/metrics')).text);
      expect(
        samples.find((s) => s.name === 'modelops_inference_requests_total' && s.labels.code === '200')?.value,
      ).toBe(20);
      expect(samples.find((s) => s.name === 'modelops_reference_sample_count')?.value).toBe(2000); // once, not twice
    }

    const load = await call(
      port,
      'POST',
      '/v2/repository/models/fraud/load',
      JSON.stringify({ parameters: { uri: MODEL_PATH, version: '2' } }),
      CONTROL_HEADERS,
    );
    expect(load.status).toBe(200);
    let reloaded = 0;
    await logLine((l) => l.msg === 'model loaded, warmed and serving' && l.version === '2' && ++reloaded === 2);
    const versions = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(port, 'POST', '/v2/models/fraud/infer', inferBody()).then((r) => JSON.parse(r.text).model_version),
      ),
    );
    expect(versions).toEqual(versions.map(() => '2'));

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 120_000); // a hang guard only: three processes start under tsx, slowly on a loaded machine
});
