// The TrainingJob reconciler: read from the cache, create what is missing, decide the state with
// the pure functions beside it, write the status once, then tell the user what changed in Events.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  isAlreadyExists,
  type ConditionInput,
  type ControllerOptions,
  type KubernetesObject,
  type ObjectKey,
  type ReconcileContext,
} from '../../runtime/index.js';
import { resources, type ModelVersion, type TrainingJob, type TrainingJobStatus } from '../../api/index.js';
import { JOB, POD, RESOURCE_CLAIM_TEMPLATE, SERVICE } from '../resources.js';
import { buildClaimTemplate, buildJob, buildWorkersService, LABEL_TRAININGJOB, totalGpus } from './job.js';
import { decideRunState, type RunState } from './state.js';
import { evaluateGate } from './gate.js';
import { buildModelVersion, modelVersionName } from './register.js';
import type { TrainingReport } from './report.js';

const TJ = resources.TrainingJob;
const MV = resources.ModelVersion;

export function trainingJobController(): ControllerOptions {
  return {
    name: 'trainingjob',
    for: TJ,
    owns: [JOB, SERVICE, RESOURCE_CLAIM_TEMPLATE],
    // Pods belong to the Job, not to the TrainingJob: map them back through the label the Job template
    // sets, and cache only those pods, not every pod of the cluster.
    watches: [{ resource: POD, map: (pod) => podOwnerKey(pod), labelSelector: LABEL_TRAININGJOB }],
    reconcile: reconcileTrainingJob,
  };
}

function podOwnerKey(pod: KubernetesObject): ObjectKey[] {
  const name = pod.metadata?.labels?.[LABEL_TRAININGJOB];
  return name && pod.metadata?.namespace ? [{ namespace: pod.metadata.namespace, name }] : [];
}

export async function reconcileTrainingJob(ctx: ReconcileContext, key: ObjectKey): Promise<void> {
  const tj = ctx.cache.get<TrainingJob & KubernetesObject>(TJ, key);
  // Gone or going: the Job, Service and claim template follow through their owner references.
  if (!tj || tj.metadata.deletionTimestamp) return;
  if (hasFinished(tj)) {
    // The outcome is settled and recorded. Its pods, even its Job (ttlSecondsAfterFinished), may go
    // away now; that must neither rerun the training nor rewrite what it reported.
    await writeStatus(ctx, tj, {}, []);
    return;
  }

  const job = await ensureChildren(ctx, tj);
  if (job === 'conflict') {
    await writeStatus(
      ctx,
      tj,
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'Created',
            status: 'False',
            reason: 'NameConflict',
            message: `a Job named ${tj.metadata.name} exists and is not owned by this TrainingJob`,
          },
          { type: 'Ready', status: 'False', reason: 'NameConflict', message: 'the Job could not be created' },
        ],
      },
      [
        {
          type: 'Warning',
          reason: 'NameConflict',
          message: `Job ${tj.metadata.name} exists and belongs to something else`,
        },
      ],
    );
    return;
  }
  const pods = ctx.cache.list<V1Pod & KubernetesObject>(POD, {
    namespace: key.namespace,
    labelSelector: { [LABEL_TRAININGJOB]: tj.metadata.name },
  });
  const run = decideRunState(job, pods);
  const registration = run.report && tj.spec.register ? await register(ctx, tj, run.report) : undefined;

  const events: PendingEvent[] = [];
  if (run.phase !== tj.status?.phase) events.push(phaseEvent(run));
  if (run.warning && run.phase !== 'Failed') events.push({ type: 'Warning', ...run.warning });
  if (registration?.event) events.push(registration.event);
  await writeStatus(ctx, tj, desiredStatus(tj, job, run, registration), events);
}

const hasFinished = (tj: TrainingJob) => tj.status?.phase === 'Succeeded' || tj.status?.phase === 'Failed';

interface PendingEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** One status write per pass; Events only when it changed something, so resyncs stay silent. */
async function writeStatus(
  ctx: ReconcileContext,
  tj: TrainingJob & KubernetesObject,
  status: Record<string, unknown>,
  events: PendingEvent[],
): Promise<void> {
  const changed = await ctx.status.update(TJ, tj, { observedGeneration: tj.metadata.generation, ...status });
  if (!changed) return;
  for (const e of events) await ctx.recorder.event(tj, e.type, e.reason, e.message);
}

/** Creates the Job (and Service, claim template) when missing; returns the Job as cached. */
async function ensureChildren(
  ctx: ReconcileContext,
  tj: TrainingJob & KubernetesObject,
): Promise<V1Job | undefined | 'conflict'> {
  const key = { namespace: tj.metadata.namespace, name: tj.metadata.name };
  const claimTemplate = buildClaimTemplate(tj);
  if (
    claimTemplate &&
    !ctx.cache.get(RESOURCE_CLAIM_TEMPLATE, { namespace: key.namespace, name: claimTemplate.metadata.name })
  ) {
    await createIfMissing(ctx, RESOURCE_CLAIM_TEMPLATE, claimTemplate as unknown as KubernetesObject);
  }
  const service = buildWorkersService(tj);
  if (service && !ctx.cache.get(SERVICE, { namespace: key.namespace, name: service.metadata!.name! })) {
    await createIfMissing(ctx, SERVICE, service as KubernetesObject);
  }

  const desired = buildJob(tj);
  const job = ctx.cache.get<V1Job & KubernetesObject>(JOB, key);
  if (!job) {
    await createIfMissing(ctx, JOB, desired as KubernetesObject);
    ctx.log.info({ job: desired.metadata?.name }, 'created Job');
    return undefined;
  }
  if (!job.metadata?.ownerReferences?.some((o) => o.uid === tj.metadata.uid)) return 'conflict';
  // A Job's pod template is immutable; suspend is the one run-policy field that may change.
  if (Boolean(job.spec?.suspend) !== Boolean(desired.spec?.suspend)) {
    await ctx.client.patch(JOB, key, { spec: { suspend: desired.spec?.suspend } });
  }
  return job;
}

async function createIfMissing(ctx: ReconcileContext, ref: typeof JOB, obj: KubernetesObject): Promise<void> {
  try {
    await ctx.client.create(ref, obj);
  } catch (err) {
    // The cache lags the API server: an object created by an earlier pass is fine.
    if (!isAlreadyExists(err)) throw err;
  }
}

interface Registration {
  status: Partial<TrainingJobStatus>;
  condition: ConditionInput;
  event?: PendingEvent;
}

/** Decides once: a run that was registered (or refused) keeps that outcome. */
async function register(ctx: ReconcileContext, tj: TrainingJob, report: TrainingReport): Promise<Registration> {
  const decided = tj.status?.conditions?.find((c) => c.type === 'Registered');
  if (decided) {
    return {
      status: { modelVersion: tj.status?.modelVersion, gateMessage: tj.status?.gateMessage },
      condition: { type: 'Registered', status: decided.status, reason: decided.reason, message: decided.message },
    };
  }
  const registerSpec = tj.spec.register!;
  if (!report.artifact) {
    const message = 'the run reported no artifact to register';
    return {
      status: { gateMessage: message },
      condition: { type: 'Registered', status: 'False', reason: 'NoArtifact', message },
      event: { type: 'Warning', reason: 'NoArtifact', message },
    };
  }
  const stable = await stableVersion(ctx, tj.metadata.namespace, registerSpec.modelName);
  const gate = evaluateGate(registerSpec, report.metrics, stable?.spec.lineage?.metrics);
  if (!gate.passed) {
    return {
      status: { gateMessage: gate.message },
      condition: { type: 'Registered', status: 'False', reason: 'GateRefused', message: gate.message },
      event: { type: 'Warning', reason: 'GateRefused', message: gate.message },
    };
  }
  const mv = buildModelVersion(tj, report);
  await createIfMissing(ctx, MV, mv as unknown as KubernetesObject);
  const message = `registered ModelVersion ${mv.metadata.name}: ${gate.message}`;
  return {
    status: { modelVersion: modelVersionName(tj), gateMessage: gate.message },
    condition: { type: 'Registered', status: 'True', reason: 'GatePassed', message },
    event: { type: 'Normal', reason: 'Registered', message },
  };
}

async function stableVersion(
  ctx: ReconcileContext,
  namespace: string,
  model: string,
): Promise<ModelVersion | undefined> {
  const list = await ctx.client.list<ModelVersion & KubernetesObject>(MV, { namespace });
  return list.items.find((mv) => mv.spec.model === model && mv.status?.role === 'stable');
}

function desiredStatus(
  tj: TrainingJob,
  job: V1Job | undefined,
  run: RunState,
  registration: Registration | undefined,
): Record<string, unknown> {
  const metrics = run.report?.metrics;
  return {
    phase: run.phase,
    jobName: job?.metadata?.name ?? tj.metadata.name,
    gpus: totalGpus(tj),
    startTime: run.startTime,
    completionTime: run.completionTime,
    ...(metrics ? { metrics, headlineMetric: headline(tj, metrics) } : {}),
    ...(run.report?.artifact ? { artifact: run.report.artifact } : {}),
    ...(run.report?.reference ? { reference: run.report.reference } : {}),
    ...registration?.status,
    conditions: [...run.conditions, ...(registration ? [registration.condition] : [])],
  };
}

/** The metric a user cares about first: the gate's, else val_auc, else any. */
function headline(tj: TrainingJob, metrics: Record<string, number>): string | undefined {
  const name = tj.spec.register?.gate?.[0]?.metric ?? ('val_auc' in metrics ? 'val_auc' : Object.keys(metrics)[0]);
  const value = name === undefined ? undefined : metrics[name];
  return value === undefined ? undefined : `${name}=${Number(value.toFixed(4))}`;
}

function phaseEvent(run: RunState): PendingEvent {
  const message =
    run.conditions.find((c) => c.type === (run.phase === 'Failed' ? 'Failed' : 'Ready'))?.message ?? run.phase;
  switch (run.phase) {
    case 'Failed':
      return { type: 'Warning', reason: run.warning?.reason ?? 'Failed', message: run.warning?.message ?? message };
    case 'Succeeded':
      return { type: 'Normal', reason: 'Succeeded', message: 'training completed' };
    case 'Running':
      return { type: 'Normal', reason: 'Running', message: 'training pods are running' };
    case 'Suspended':
      return { type: 'Normal', reason: 'Suspended', message: 'the run is suspended' };
    default:
      return { type: 'Normal', reason: 'Created', message: 'creating the training Job' };
  }
}
