import { jest } from '@jest/globals';
import { ConfigError, loadConfig, parseDurationMicros } from './config.js';

test('defaults for everything but MODEL_URI', () => {
  const config = loadConfig({ MODEL_URI: '/models/m.onnx' });
  expect(config).toMatchObject({
    port: 8080,
    host: '0.0.0.0',
    modelUri: '/models/m.onnx',
    referenceUri: undefined,
    modelName: 'model',
    modelVersion: '1',
    role: 'stable',
    maxBatchSize: 64,
    maxQueueDelayMicros: 0,
    maxBodyBytes: 8 << 20,
    intraOpThreads: 1,
    loadRetryMillis: 30_000,
    fetchTimeoutMillis: 60_000,
    shutdownTimeoutMillis: 25_000,
    logLevel: 'info',
    s3: undefined,
    apiKey: undefined,
    modelControlKey: undefined,
    workers: 'auto',
    faults: undefined,
  });
});

test.each([
  ['PORT', '9000', { port: 9000 }],
  ['HOST', '127.0.0.1', { host: '127.0.0.1' }],
  ['REFERENCE_URI', 's3://b/reference.json', { referenceUri: 's3://b/reference.json' }],
  ['MODEL_NAME', 'fraud', { modelName: 'fraud' }],
  ['MODEL_VERSION', '7', { modelVersion: '7' }],
  ['MODEL_ROLE', 'canary', { role: 'canary' }],
  ['BATCH_MAX_SIZE', '128', { maxBatchSize: 128 }],
  ['BATCH_MAX_QUEUE_DELAY', '2ms', { maxQueueDelayMicros: 2000 }],
  ['MAX_BODY_BYTES', '1024', { maxBodyBytes: 1024 }],
  ['ORT_INTRA_OP_THREADS', '0', { intraOpThreads: 0 }],
  ['MODEL_LOAD_RETRY_INTERVAL', '5s', { loadRetryMillis: 5000 }],
  ['FETCH_TIMEOUT', '1.5s', { fetchTimeoutMillis: 1500 }],
  ['SHUTDOWN_TIMEOUT', '10s', { shutdownTimeoutMillis: 10_000 }],
  ['LOG_LEVEL', 'debug', { logLevel: 'debug' }],
  ['WORKERS', 'auto', { workers: 'auto' }],
  ['WORKERS', '3', { workers: 3 }],
])('%s=%p sets %p', (name, value, expected) => {
  expect(loadConfig({ MODEL_URI: 'm', [name]: value })).toMatchObject(expected);
});

test('reports every problem at once', () => {
  try {
    loadConfig({
      PORT: '99999',
      MODEL_ROLE: 'primary',
      BATCH_MAX_SIZE: '0',
      BATCH_MAX_QUEUE_DELAY: 'later',
      LOG_LEVEL: 'loud',
    });
    throw new Error('expected a ConfigError');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'MODEL_URI is required',
      'MODEL_ROLE must be "stable" or "canary", got "primary"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'PORT must be an integer from 0 to 65535, got "99999"',
      'BATCH_MAX_SIZE must be an integer from 1 to 65536, got "0"',
      'BATCH_MAX_QUEUE_DELAY must be a duration like 500us, 2ms or 30s, got "later"',
    ]);
  }
});

test('S3 credentials and endpoint come from the AWS variables', () => {
  const config = loadConfig({
    MODEL_URI: 's3://b/k',
    AWS_ACCESS_KEY_ID: 'AK',
    AWS_SECRET_ACCESS_KEY: 'SK',
    AWS_ENDPOINT_URL: 'http://minio:9000',
    AWS_REGION: 'eu-west-1',
  });
  expect(config.s3).toEqual({
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    sessionToken: undefined,
    region: 'eu-west-1',
    endpointUrl: 'http://minio:9000',
  });
});

test.each([
  ['250us', 250],
  ['250µs', 250],
  ['2ms', 2000],
  ['1.5s', 1_500_000],
  ['0.25s', 250_000],
  ['100', 100],
  [' 3ms ', 3000],
  ['-1ms', undefined],
  ['2 hours', undefined],
])('duration %p is %p µs', (text, micros) => {
  expect(parseDurationMicros(text)).toBe(micros);
});

test('fault injection (contract C2) is off unless a MODELOPS_FAULT_* variable is set', () => {
  expect(loadConfig({ MODEL_URI: 'm' }).faults).toBeUndefined();
  expect(loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_LATENCY: '50ms' }).faults).toEqual({
    errorRate: 0,
    latencyMillis: 50,
    scoreShift: 0,
  });
  expect(
    loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_ERROR_RATE: '0.25', MODELOPS_FAULT_SCORE_SHIFT: '-0.5' }).faults,
  ).toEqual({ errorRate: 0.25, latencyMillis: 0, scoreShift: -0.5 });
  expect(() =>
    loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_ERROR_RATE: '1.5', MODELOPS_FAULT_SCORE_SHIFT: 'up' }),
  ).toThrow(
    'MODELOPS_FAULT_ERROR_RATE must be a number from 0 to 1, got "1.5"; MODELOPS_FAULT_SCORE_SHIFT must be a number from -1 to 1, got "up"',
  );
});

test('a variable set to the empty string counts as unset: its default applies, with no problem reported', () => {
  const config = loadConfig({
    MODEL_URI: 'm',
    PORT: '',
    MODEL_NAME: '',
    BATCH_MAX_QUEUE_DELAY: '',
    MODELOPS_FAULT_ERROR_RATE: '',
    API_KEY: '',
    AWS_ACCESS_KEY_ID: 'AK',
    AWS_SECRET_ACCESS_KEY: 'SK',
    AWS_REGION: '',
  });
  expect(config).toMatchObject({ port: 8080, modelName: 'model', maxQueueDelayMicros: 0, apiKey: undefined });
  expect(config.faults).toBeUndefined();
  expect(config.s3?.region).toBe('us-east-1');
});

test.each([{ AWS_ACCESS_KEY_ID: 'AK' }, { AWS_SECRET_ACCESS_KEY: 'SK' }])(
  'S3 credentials need both the key id and the secret key: %p alone is none',
  (env) => {
    expect(loadConfig({ MODEL_URI: 's3://b/k', ...env }).s3).toBeUndefined();
  },
);

test.each([
  [{}, { sessionToken: undefined, region: 'us-east-1', endpointUrl: undefined }],
  [
    { AWS_SESSION_TOKEN: 'ST', AWS_DEFAULT_REGION: 'ap-south-1' },
    { sessionToken: 'ST', region: 'ap-south-1', endpointUrl: undefined },
  ],
  [
    {
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'ap-south-1',
      AWS_ENDPOINT_URL: 'http://all',
      AWS_ENDPOINT_URL_S3: 'http://s3',
    },
    { sessionToken: undefined, region: 'eu-west-1', endpointUrl: 'http://s3' },
  ],
])(
  'S3 settings from %p: %p (AWS_REGION before AWS_DEFAULT_REGION, the S3 endpoint before the general one)',
  (env, expected) => {
    expect(
      loadConfig({ MODEL_URI: 's3://b/k', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', ...env }).s3,
    ).toEqual({
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      ...expected,
    });
  },
);

test("numbers' bounds are inclusive: the ends of a range are accepted, a step past either is refused", () => {
  expect(
    loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_ERROR_RATE: '0', MODELOPS_FAULT_SCORE_SHIFT: '0' }).faults,
  ).toBeUndefined();
  expect(
    loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_ERROR_RATE: '1', MODELOPS_FAULT_SCORE_SHIFT: '-1' }).faults,
  ).toEqual({
    errorRate: 1,
    latencyMillis: 0,
    scoreShift: -1,
  });
  expect(() =>
    loadConfig({ MODEL_URI: 'm', MODELOPS_FAULT_ERROR_RATE: '-0.1', MODELOPS_FAULT_SCORE_SHIFT: '1.1' }),
  ).toThrow(
    'MODELOPS_FAULT_ERROR_RATE must be a number from 0 to 1, got "-0.1"; MODELOPS_FAULT_SCORE_SHIFT must be a number from -1 to 1, got "1.1"',
  );
});

test("integers' bounds are inclusive: the ends of a range are accepted, a step past either is refused", () => {
  expect(loadConfig({ MODEL_URI: 'm', PORT: '0', BATCH_MAX_SIZE: '65536' })).toMatchObject({
    port: 0,
    maxBatchSize: 65536,
  });
  expect(loadConfig({ MODEL_URI: 'm', PORT: '65535', BATCH_MAX_SIZE: '1' })).toMatchObject({
    port: 65535,
    maxBatchSize: 1,
  });
  expect(() => loadConfig({ MODEL_URI: 'm', PORT: '-1', BATCH_MAX_SIZE: '65537' })).toThrow(
    'PORT must be an integer from 0 to 65535, got "-1"; BATCH_MAX_SIZE must be an integer from 1 to 65536, got "65537"',
  );
});

test('a key file that fails to read for a reason without an errno code names "error" as the reason', async () => {
  // As node:fs fails on a file too big for the memory left: a RangeError with no code.
  jest.resetModules();
  jest.unstable_mockModule('node:fs', () => ({
    readFileSync: () => {
      throw new RangeError('Array buffer allocation failed');
    },
  }));
  const { loadConfig: loadConfigFailingToRead } = await import('./config.js');
  jest.unstable_unmockModule('node:fs');
  expect(() => loadConfigFailingToRead({ MODEL_URI: 'm', API_KEY_FILE: '/run/secrets/api-key' })).toThrow(
    'invalid configuration: API_KEY_FILE: cannot read /run/secrets/api-key (error)',
  );
});
