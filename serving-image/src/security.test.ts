/** @jest-environment ./serving-image/test/ort-environment.mjs */
// The API key and model control through real HTTP: who gets a 401 or a 403, what is counted, what is logged.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';
import {
  CONTROL_ENV,
  CONTROL_HEADERS,
  CONTROL_KEY,
  inferBody,
  MODEL_PATH,
  parseExposition,
  startServer,
  type TestServer,
} from '../test/harness.js';

const API_KEY = 'api-key-that-must-never-be-logged';
let keyFile: string;
beforeAll(() => {
  keyFile = join(mkdtempSync(join(tmpdir(), 'serving-key-')), 'api-key');
  writeFileSync(keyFile, `${API_KEY}\n`); // as a mounted Secret often is: with a trailing newline
});

let server: TestServer;
afterEach(() => server.close());
const metrics = async () => parseExposition((await server.request('GET', '/metrics')).body.toString());
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

test('by default the load and unload routes are refused with 403 and the model keeps serving', async () => {
  server = await startServer();
  for (const action of ['load', 'unload']) {
    const response = await server.request(
      'POST',
      `/v2/repository/models/fraud/${action}`,
      JSON.stringify({ parameters: { uri: '/elsewhere/model.onnx', version: '9' } }),
    );
    expect(response.status).toBe(403);
    expect(response.json().error).toMatch(/model control is disabled on this server \(MODEL_CONTROL\)/);
    expect(response.headers['www-authenticate']).toBeUndefined(); // no token would help
  }
  // Refused, not failed: no credentials were wrong.
  expect((await metrics()).filter((s) => s.name === 'modelops_auth_failures_total' && s.value > 0)).toEqual([]);
  expect(server.logs.filter((line) => line.msg === 'loading model')).toHaveLength(1); // the start-up load only
  const response = await server.request('POST', '/v2/models/fraud/infer', inferBody());
  expect(response.status).toBe(200);
  expect(response.json().model_version).toBe('1');
});

describe('API_KEY_FILE', () => {
  beforeEach(async () => {
    server = await startServer({ API_KEY_FILE: keyFile });
  });

  test.each([
    ['POST', '/v2/models/fraud/infer'],
    ['GET', '/v2'],
    ['GET', '/v2/models/fraud'],
    ['POST', '/v2/repository/index'],
  ])('%s %s: 401 JSON without the token or with a wrong one, served with it', async (method, path) => {
    const body = method === 'POST' && path.endsWith('infer') ? inferBody() : undefined;
    for (const headers of [{}, bearer('wrong'), { Authorization: API_KEY }]) {
      const response = await server.request(method, path, body, headers);
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="modelops-serving"');
      expect(response.json().error).toMatch(/bearer token/i);
    }
    expect((await server.request(method, path, body, bearer(API_KEY))).status).toBe(200);
  });

  test.each(['/v2/health/live', '/v2/health/ready', '/v2/models/fraud/ready', '/metrics'])(
    'GET %s stays open',
    async (path) => {
      expect((await server.request('GET', path)).status).toBe(200);
    },
  );

  test('failures are counted by reason (and 401 inferences as requests), and the token is never logged', async () => {
    await server.request('POST', '/v2/models/fraud/infer', inferBody());
    await server.request('POST', '/v2/models/fraud/infer', inferBody(), bearer(`${API_KEY}x`));
    await server.request('GET', '/v2', undefined, bearer('also-wrong'));
    await server.request('POST', '/v2/models/fraud/infer', inferBody(), bearer(API_KEY));
    const samples = await metrics();
    const failures = samples.filter((s) => s.name === 'modelops_auth_failures_total');
    expect(failures.map((s) => [s.labels.scope, s.labels.reason, s.value])).toEqual([
      ['api', 'missing', 1],
      ['api', 'invalid', 2],
    ]);
    const requests = samples.filter((s) => s.name === 'modelops_inference_requests_total');
    expect(Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))).toEqual({ '200': 1, '401': 2 });
    expect(JSON.stringify(server.logs)).not.toContain(API_KEY);
    expect(server.logs.length).toBeGreaterThan(0);
  });
});

test('with model control on, loading needs the control key: the API key is not enough', async () => {
  server = await startServer({ ...CONTROL_ENV, API_KEY: API_KEY });
  const load = (headers: Record<string, string>) =>
    server.request('POST', '/v2/repository/models/fraud/load', '', headers);
  expect((await load({})).status).toBe(401);
  expect((await load(bearer(API_KEY))).status).toBe(401);
  expect((await load(CONTROL_HEADERS)).status).toBe(200);
  const failures = (await metrics()).filter((s) => s.name === 'modelops_auth_failures_total');
  expect(failures.map((s) => [s.labels.scope, s.labels.reason, s.value])).toEqual([
    ['control', 'missing', 1],
    ['control', 'invalid', 1],
  ]);
  expect(JSON.stringify(server.logs)).not.toContain(CONTROL_KEY);
});

describe('configuration', () => {
  test('model control cannot be enabled without its key', () => {
    expect(() => loadConfig({ MODEL_URI: MODEL_PATH, MODEL_CONTROL: 'enabled' })).toThrow(
      /MODEL_CONTROL=enabled needs MODEL_CONTROL_KEY_FILE or MODEL_CONTROL_KEY/,
    );
    expect(() => loadConfig({ MODEL_URI: MODEL_PATH, MODEL_CONTROL: 'on' })).toThrow(
      /MODEL_CONTROL must be one of disabled, enabled, got "on"/,
    );
  });

  test('a key comes from a file or the environment, never both; problems never quote it', () => {
    expect(loadConfig({ MODEL_URI: MODEL_PATH, API_KEY_FILE: keyFile }).apiKey).toBe(API_KEY);
    expect(loadConfig({ MODEL_URI: MODEL_PATH, API_KEY: API_KEY }).apiKey).toBe(API_KEY);
    expect(loadConfig({ MODEL_URI: MODEL_PATH }).apiKey).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ MODEL_URI: MODEL_PATH, ...env });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems({ API_KEY_FILE: keyFile, API_KEY: API_KEY })).toMatch(/set API_KEY_FILE or API_KEY, not both/);
    expect(problems({ API_KEY_FILE: '/nonexistent/key' })).toMatch(
      /API_KEY_FILE: cannot read \/nonexistent\/key \(ENOENT\)/,
    );
    expect(problems({ API_KEY: '   ' })).toMatch(/API_KEY is empty/);
    const blankFile = join(mkdtempSync(join(tmpdir(), 'serving-key-')), 'blank');
    writeFileSync(blankFile, ' \n');
    expect(problems({ API_KEY_FILE: blankFile })).toBe(`invalid configuration: API_KEY_FILE ${blankFile} is empty`);
    expect(problems({ API_KEY_FILE: keyFile, API_KEY: API_KEY })).not.toContain(API_KEY);
  });
});
