// Operator flags (the chart passes them as args), parsed with clear errors.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { DEFAULT_SERVING_IMAGE } from './api/index.js';

export interface OperatorConfig {
  leaderElect: boolean;
  leaderElectionNamespace: string;
  identity: string;
  metricsPort: number;
  healthPort: number;
  prometheusUrl: string | undefined;
  servingImage: string;
  workers: number;
  logLevel: string;
}

export const USAGE = `modelops operator: reconciles TrainingJobs, ModelVersions and DriftMonitors.

  --leader-elect                     run as one of several replicas; only the Lease holder reconciles
  --leader-election-namespace=NS     namespace of the Lease (default: $POD_NAMESPACE or modelops-system)
  --metrics-port=PORT                /metrics (default 8080; 0 picks a free port)
  --health-port=PORT                 /healthz and /readyz (default 8081)
  --prometheus-url=URL               Prometheus that scrapes the serving pods
  --serving-image=IMAGE              default image of ModelVersion pods
  --workers=N                        concurrent reconciles per controller (default 4)

Environment: KUBECONFIG (out of cluster; in cluster the ServiceAccount is used), LOG_LEVEL, POD_NAME.`;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string', default: env.POD_NAMESPACE ?? 'modelops-system' },
      'metrics-port': { type: 'string', default: '8080' },
      'health-port': { type: 'string', default: '8081' },
      'prometheus-url': { type: 'string' },
      'serving-image': { type: 'string', default: DEFAULT_SERVING_IMAGE },
      workers: { type: 'string', default: '4' },
    },
    strict: true,
  });
  return {
    leaderElect: values['leader-elect']!,
    leaderElectionNamespace: values['leader-election-namespace']!,
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    metricsPort: port(values['metrics-port']!, '--metrics-port'),
    healthPort: port(values['health-port']!, '--health-port'),
    prometheusUrl: values['prometheus-url'],
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

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
