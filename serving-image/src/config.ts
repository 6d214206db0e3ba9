import { readFileSync } from 'node:fs';
import type { FaultSettings } from './model/faults.js';

// Everything the serving process is told, read once from the environment. Every problem is reported at once,
// so a misconfigured pod says all that is wrong in one log line instead of one per restart.

export type Role = 'stable' | 'canary';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  region: string;
  /** S3-compatible endpoint (MinIO, Ceph...); path-style addressing is used when set. */
  endpointUrl: string | undefined;
}

export interface ServingConfig {
  port: number;
  host: string;
  modelUri: string;
  /** Where the reference distribution lives; undefined means `reference.json` beside the model. */
  referenceUri: string | undefined;
  modelName: string;
  modelVersion: string;
  role: Role;
  /** Most rows one `session.run` takes. */
  maxBatchSize: number;
  /** How long a request may wait for others to share its batch while the model is idle. */
  maxQueueDelayMicros: number;
  maxBodyBytes: number;
  /** onnxruntime intra-op threads; 0 lets onnxruntime pick (one per core). */
  intraOpThreads: number;
  /** While no model could be loaded, retry the load this often (0: only on request). */
  loadRetryMillis: number;
  fetchTimeoutMillis: number;
  shutdownTimeoutMillis: number;
  logLevel: string;
  s3: S3Credentials | undefined;
  /** Bearer token required on inference, metadata and repository routes (API_KEY_FILE or API_KEY). */
  apiKey: string | undefined;
  /**
   * The load and unload routes: off unless MODEL_CONTROL=enabled, and then only with their own bearer token
   * (MODEL_CONTROL_KEY_FILE or MODEL_CONTROL_KEY).
   */
  modelControlKey: string | undefined;
  /** Worker processes: a number, or `auto` (from the cgroup CPU limit; see workers.ts). */
  workers: number | 'auto';
  /** Injected faults for test beds and chaos drills (MODELOPS_FAULT_*); undefined when none is set. */
  faults: FaultSettings | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env): ServingConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const modelUri = read.string('MODEL_URI', undefined);
  const role = read.string('MODEL_ROLE', 'stable');
  if (role !== 'stable' && role !== 'canary') problems.push(`MODEL_ROLE must be "stable" or "canary", got "${role}"`);
  const logLevel = read.string('LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const config: ServingConfig = {
    port: read.integer('PORT', 8080, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    modelUri,
    referenceUri: env.REFERENCE_URI || undefined,
    modelName: read.string('MODEL_NAME', 'model'),
    modelVersion: read.string('MODEL_VERSION', '1'),
    role: role as Role,
    maxBatchSize: read.integer('BATCH_MAX_SIZE', 64, 1, 1 << 16),
    maxQueueDelayMicros: read.duration('BATCH_MAX_QUEUE_DELAY', 0),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 8 << 20, 1, 1 << 30),
    intraOpThreads: read.integer('ORT_INTRA_OP_THREADS', 1, 0, 1024),
    loadRetryMillis: read.duration('MODEL_LOAD_RETRY_INTERVAL', 30_000_000) / 1000,
    fetchTimeoutMillis: read.duration('FETCH_TIMEOUT', 60_000_000) / 1000,
    shutdownTimeoutMillis: read.duration('SHUTDOWN_TIMEOUT', 25_000_000) / 1000,
    logLevel,
    s3: readS3Credentials(env),
    apiKey: read.secret('API_KEY'),
    modelControlKey: readModelControl(read),
    workers: env.WORKERS === 'auto' || !env.WORKERS ? 'auto' : read.integer('WORKERS', 1, 1, 1024),
    faults: readFaults(read),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readModelControl(read: EnvReader): string | undefined {
  const control = read.choice('MODEL_CONTROL', ['disabled', 'enabled']);
  const key = read.secret('MODEL_CONTROL_KEY');
  if (control !== 'enabled') return undefined;
  if (key === undefined)
    read.problem(
      'MODEL_CONTROL=enabled needs MODEL_CONTROL_KEY_FILE or MODEL_CONTROL_KEY: loading models is never open',
    );
  return key;
}

function readFaults(read: EnvReader): FaultSettings | undefined {
  const faults = {
    errorRate: read.number('MODELOPS_FAULT_ERROR_RATE', 0, 0, 1),
    latencyMillis: read.duration('MODELOPS_FAULT_LATENCY', 0) / 1000,
    scoreShift: read.number('MODELOPS_FAULT_SCORE_SHIFT', 0, -1, 1),
  };
  return faults.errorRate === 0 && faults.latencyMillis === 0 && faults.scoreShift === 0 ? undefined : faults;
}

function readS3Credentials(env: Env): S3Credentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpointUrl: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
  };
}

const MICROS_PER_UNIT: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

/** Parses "250us", "2ms", "1.5s" or a bare number of microseconds into microseconds. */
export function parseDurationMicros(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)?\s*$/.exec(text);
  if (!match) return undefined;
  // The pattern admits no other unit; none is microseconds.
  const scale = MICROS_PER_UNIT[match[2] ?? 'us']!;
  return Math.round(Number(match[1]) * scale);
}

/** What a numeric variable must be, and the words for it in a problem. */
interface NumberKind {
  word: string;
  is(n: number): boolean;
}
const INTEGER: NumberKind = { word: 'an integer', is: Number.isInteger };
const FINITE: NumberKind = { word: 'a number', is: Number.isFinite };

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  /** The variable's value; set to the empty string, it counts as unset. */
  private value(name: string): string | undefined {
    const value = this.env[name];
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string | undefined): string {
    const value = this.value(name);
    if (value !== undefined) return value;
    if (fallback === undefined) this.problems.push(`${name} is required`);
    return fallback ?? '';
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  /** One of `values`, the first being the default. */
  choice(name: string, values: string[]): string {
    const value = this.string(name, values[0]);
    if (values.includes(value)) return value;
    this.problems.push(`${name} must be one of ${values.join(', ')}, got "${value}"`);
    return values[0]!;
  }

  /**
   * A secret from the file named by `${name}_FILE` (a mounted Secret; surrounding whitespace trimmed) or from
   * `${name}` itself. Problems never quote the value.
   */
  secret(name: string): string | undefined {
    const path = this.env[`${name}_FILE`];
    const inline = this.value(name);
    if (path && inline) {
      this.problems.push(`set ${name}_FILE or ${name}, not both`);
      return undefined;
    }
    let value = inline;
    if (path) {
      try {
        value = readFileSync(path, 'utf8');
      } catch (error) {
        this.problems.push(`${name}_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        return undefined;
      }
    }
    if (value === undefined) return undefined;
    value = value.trim();
    if (value === '') this.problems.push(`${path ? `${name}_FILE ${path}` : name} is empty`);
    return value || undefined;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    return this.bounded(name, fallback, { min, max }, INTEGER);
  }

  number(name: string, fallback: number, min: number, max: number): number {
    return this.bounded(name, fallback, { min, max }, FINITE);
  }

  /** A number from min to max of the given kind; else the fallback, and a problem naming the kind. */
  private bounded(name: string, fallback: number, { min, max }: { min: number; max: number }, kind: NumberKind) {
    const text = this.value(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!kind.is(value) || value < min || value > max) {
      this.problems.push(`${name} must be ${kind.word} from ${min} to ${max}, got "${text}"`);
      return fallback;
    }
    return value;
  }

  duration(name: string, fallbackMicros: number): number {
    const text = this.value(name);
    if (text === undefined) return fallbackMicros;
    const micros = parseDurationMicros(text);
    if (micros === undefined) {
      this.problems.push(`${name} must be a duration like 500us, 2ms or 30s, got "${text}"`);
      return fallbackMicros;
    }
    return micros;
  }
}
