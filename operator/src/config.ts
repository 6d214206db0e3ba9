// Operator flags (the chart passes them as args), parsed with clear errors.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { DEFAULT_SERVING_IMAGE } from './api/index.js';

/** What the controller factories get from the flags (main.ts passes it; nothing is parsed and dropped). */
export interface ControllerSettings {
  /** Prometheus that scrapes the serving pods (canary analysis, drift); a resource's own prometheusUrl wins. */
  prometheusUrl: string | undefined;
  /** Image of ModelVersion serving pods when the resource names none. */
  servingImage: string;
}

export interface OperatorConfig extends ControllerSettings {
  leaderElect: boolean;
  leaderElectionNamespace: string;
  identity: string;
  metricsPort: number;
  healthPort: number;
  /** Watch only these namespaces (Roles there suffice); undefined: the whole cluster. */
  namespaces: string[] | undefined;
  workers: number;
  logLevel: string;
}

const DEFAULT_WORKERS = 32;

export const USAGE = `modelops operator: reconciles TrainingJobs, ModelVersions and DriftMonitors.

  --leader-elect                     run as one of several replicas; only the Lease holder reconciles
  --leader-election-namespace=NS     namespace of the Lease (default: $POD_NAMESPACE or modelops-system)
  --metrics-port=PORT                /metrics (default 8080; 0 picks a free port)
  --health-port=PORT                 /healthz and /readyz (default 8081)
  --namespaces=NS1,NS2               watch only these namespaces (default: all; then Roles there suffice)
  --prometheus-url=URL               Prometheus that scrapes the serving pods
  --serving-image=IMAGE              default image of ModelVersion pods
  --workers=N                        concurrent reconciles per controller (default 32)

Environment: KUBECONFIG (out of cluster; in cluster the ServiceAccount is used), LOG_LEVEL, POD_NAME.`;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string', default: env.POD_NAMESPACE ?? 'modelops-system' },
      'metrics-port': { type: 'string', default: '8080' },
      'health-port': { type: 'string', default: '8081' },
      namespaces: { type: 'string' },
      'prometheus-url': { type: 'string' },
      'serving-image': { type: 'string', default: DEFAULT_SERVING_IMAGE },
      // Reconciles wait on the API server, not on this process's CPU: with 4, a burst of 1000
      // TrainingJobs queued 34 s on average before their Jobs were made (bench/operator).
      workers: { type: 'string', default: String(DEFAULT_WORKERS) },
    },
    strict: true,
  });
  return {
    leaderElect: values['leader-elect']!,
    leaderElectionNamespace: values['leader-election-namespace']!,
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    metricsPort: port(values['metrics-port']!, '--metrics-port'),
    healthPort: port(values['health-port']!, '--health-port'),
    namespaces: namespaceList(values.namespaces),
    prometheusUrl: httpUrl(values['prometheus-url'], '--prometheus-url'),
    servingImage: values['serving-image']!,
    workers: positiveInt(values.workers!, '--workers'),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${flag} must be a port number (0-65535), got "${value}"`);
  return n;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function namespaceList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = [...new Set(value.split(',').map((n) => n.trim()))].filter(Boolean);
  const bad = names.find((n) => !DNS_LABEL.test(n) || n.length > 63);
  if (bad !== undefined) throw new Error(`--namespaces: "${bad}" is not a namespace name`);
  if (!names.length) throw new Error('--namespaces needs at least one namespace (omit it to watch all)');
  return names;
}

function httpUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${flag} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${flag} must be an http(s) URL, got "${value}"`);
  // Its failures' messages name the URL, and they reach status conditions and Events.
  if (url.username || url.password) throw new Error(`${flag} must not carry credentials`);
  return value;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
