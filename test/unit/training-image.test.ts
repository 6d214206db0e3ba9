// The training image's program run for real on CPU (Debian's python3-torch): its termination message,
// artifacts and ONNX parity with PyTorch; a failure; two gloo processes; and its Python unit tests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PYTHON = '/usr/bin/python3';
const IMAGE_DIR = path.resolve('training-image');
const ONNX_PREDICT = path.resolve('test/unit/training-image/onnx-predict.mjs');
// Small enough for a few seconds on a shared 2-core machine, large enough to learn (about 600 fraud rows).
const DATASET_URI = 'synthetic://fraud?rows=20000&seed=11';
const HYPERPARAMETERS = { epochs: 3, batch_size: 256, hidden: 64, seed: 5 };

interface OnnxPrediction {
  inputNames: string[];
  outputNames: string[];
  dims: number[];
  probabilities: number[];
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  termination: string;
}

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'training-image-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function runPython(
  args: string[],
  env: Record<string, string> = {},
  cwd = IMAGE_DIR,
): Promise<Omit<RunResult, 'termination'>> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      args,
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function train(name: string, env: Record<string, string>): Promise<RunResult> {
  const terminationPath = path.join(workDir, `${name}.termination`);
  const result = await runPython(['-m', 'modelops_train'], {
    MODELOPS_DATASET_URI: DATASET_URI,
    MODELOPS_DATASET_VERSION: 'test-v1',
    MODELOPS_OUTPUT_URI: path.join(workDir, name),
    MODELOPS_HYPERPARAMETERS: JSON.stringify(HYPERPARAMETERS),
    MODELOPS_TERMINATION_MESSAGE_PATH: terminationPath,
    ...env,
  });
  const termination = await readFile(terminationPath, 'utf8').catch(() => '');
  return { ...result, termination };
}

function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout) =>
      error === null ? resolve(stdout) : reject(error),
    );
  });
}

const sha256 = async (file: string) =>
  `sha256:${createHash('sha256')
    .update(await readFile(file))
    .digest('hex')}`;
const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a CPU training run', () => {
  let run: RunResult;
  let outputDir: string;
  beforeAll(async () => {
    run = await train('single', {});
    outputDir = path.join(workDir, 'single');
  }, 120_000);

  test('exits 0 and writes one compact JSON termination message with the contract fields', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.termination).not.toContain('\n');
    expect(Buffer.byteLength(run.termination)).toBeLessThan(4096);
    const message = JSON.parse(run.termination);
    expect(Object.keys(message)).toEqual([
      'metrics',
      'artifact',
      'reference',
      'dataset',
      'seed',
      'device',
      'framework',
    ]);
    expect(Object.keys(message.metrics)).toEqual([
      'val_auc',
      'val_accuracy',
      'val_loss',
      'train_loss',
      'samples_per_second',
      'epochs',
    ]);
    expect(message.metrics.epochs).toBe(HYPERPARAMETERS.epochs);
    expect(message.metrics.samples_per_second).toBeGreaterThan(0);
    expect(message.artifact.uri).toBe(path.join(outputDir, 'model.onnx'));
    expect(message.reference.uri).toBe(path.join(outputDir, 'reference.json'));
    expect(message.dataset).toEqual({ uri: DATASET_URI, version: 'test-v1' });
    expect(message.seed).toBe(HYPERPARAMETERS.seed);
    expect(message.device).toBe('cpu');
    expect(message.framework).toMatch(/^torch-\d+\.\d+/);
  });

  test('learns the signal: validation AUC well above chance, accuracy above always answering "legit"', () => {
    const { metrics } = JSON.parse(run.termination);
    expect(metrics.val_auc).toBeGreaterThan(0.9);
    expect(metrics.val_accuracy).toBeGreaterThan(0.975); // 3 % fraud: 0.97 is the all-legit baseline
  });

  test('logs structured JSON lines, one per event', () => {
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    expect(events).toEqual([
      'job_started',
      'dataset_loaded',
      'training_started',
      'epoch_finished',
      'epoch_finished',
      'epoch_finished',
      'evaluated',
      'published',
    ]);
  });

  test('reports the sha256 digests of the files it wrote', async () => {
    const message = JSON.parse(run.termination);
    expect(await sha256(message.artifact.uri)).toBe(message.artifact.digest);
    expect(await sha256(message.reference.uri)).toBe(message.reference.digest);
  });

  test('writes a reference.json that validates against reference.schema.json, features in column order', async () => {
    const check = await runPython([
      '-c',
      'import json, sys, jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))',
      'reference.schema.json',
      path.join(outputDir, 'reference.json'),
    ]);
    expect(check).toEqual({ code: 0, stdout: '', stderr: '' });
    const reference = (await readJson(path.join(outputDir, 'reference.json'))) as {
      features: { name: string }[];
      sampleCount: number;
      prediction: { classCounts: number[] };
    };
    const names = reference.features.map((feature) => feature.name);
    expect(names).toEqual([...Array.from({ length: 28 }, (_, i) => `v${i + 1}`), 'amount', 'hour']);
    expect(reference.sampleCount).toBe(4000);
    expect(reference.prediction.classCounts[1]).toBeGreaterThan(0);
  }, 30_000);

  test('exports an ONNX model whose probabilities match PyTorch to 1e-5 in onnxruntime-node', async () => {
    const checkPath = path.join(outputDir, 'predictions_check.json');
    const check = (await readJson(checkPath)) as { features: number[][]; probabilities: number[][] };
    const onnx = JSON.parse(
      await runNode([ONNX_PREDICT, path.join(outputDir, 'model.onnx'), checkPath]),
    ) as OnnxPrediction;
    const rows = check.features.length;
    expect(onnx).toMatchObject({ inputNames: ['features'], outputNames: ['probabilities'], dims: [rows, 2] });
    const differences = check.probabilities
      .flat()
      .map((expected, i) => Math.abs(expected - (onnx.probabilities[i] ?? NaN)));
    const maxDifference = Math.max(...differences);
    console.log(
      `ONNX (onnxruntime-node) vs PyTorch, max abs difference over ${rows} rows: ${maxDifference.toExponential(2)}`,
    );
    expect(maxDifference).toBeLessThan(1e-5);
  }, 30_000);
});

test('a bad hyperparameter fails with exit code 2 and an {"error"} termination message', async () => {
  const run = await train('bad-epochs', { MODELOPS_HYPERPARAMETERS: '{"epochs": 0}' });
  expect(run.code).toBe(2);
  const message = JSON.parse(run.termination);
  expect(message).toEqual({ error: "hyperparameter 'epochs' must be an integer >= 1, got 0" });
  expect(run.stderr.trim()).toBe(run.termination);
}, 60_000);

test('an unreadable dataset fails with exit code 2 and names the file', async () => {
  const run = await train('missing-data', { MODELOPS_DATASET_URI: 'file:///no/such/data.csv' });
  expect(run.code).toBe(2);
  expect(JSON.parse(run.termination).error).toMatch(/^cannot read dataset CSV \/no\/such\/data\.csv/);
}, 60_000);

test('two gloo processes train one model with DistributedDataParallel; rank 0 publishes', async () => {
  const port = String(await freePort());
  const rendezvous = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, WORLD_SIZE: '2', LOCAL_RANK: '0' };
  const [chief, worker] = await Promise.all([
    train('ddp', { ...rendezvous, RANK: '0' }),
    train('ddp-worker', { ...rendezvous, RANK: '1' }),
  ]);
  expect([chief.code, worker.code]).toEqual([0, 0]);
  expect(worker.termination).toBe('');
  const message = JSON.parse(chief.termination);
  expect(message.metrics.val_auc).toBeGreaterThan(0.9);
  const plans = [chief, worker].map((run) =>
    JSON.parse(run.stdout.split('\n').find((line) => line.includes('"training_started"')) ?? '{}'),
  );
  for (const plan of plans)
    expect(plan).toMatchObject({ world_size: 2, global_batch_size: 2 * HYPERPARAMETERS.batch_size, shard_rows: 8000 });
}, 120_000);

test('the Python unit tests pass (python3 -m unittest discover -s training-image/tests)', async () => {
  const result = await runPython(
    ['-m', 'unittest', 'discover', '-s', 'training-image/tests'],
    {},
    path.dirname(IMAGE_DIR),
  );
  if (result.code !== 0) console.error(result.stderr);
  expect(result.code).toBe(0);
}, 120_000);
