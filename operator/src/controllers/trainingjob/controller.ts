// The TrainingJob reconciler: read from the cache, create what is missing, decide the state and the
// registration with the pure functions beside it, write the status once, then tell the user what
// changed in Events. A run's outcome is recorded before anything can make it happen twice.
import {
  findCondition,
  isAlreadyExists,
  isBeingDeleted,
  isConditionTrue,
  isNotFound,
  isInvalid,
  type ControllerOptions,
  type KubernetesObject,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
  type ResourceRef,
} from '../../runtime/index.js';
import { MODEL_INDEX, modelVersionsByModel, resources, type ModelVersion, type TrainingJob } from '../../api/index.js';
import { JOB, POD, RESOURCE_CLAIM_TEMPLATE, SERVICE, type Job, type Pod } from '../resources.js';
import { buildClaimTemplate, buildJob, buildWorkersService, clusterUri, LABEL_TRAININGJOB } from './job.js';
import { decideRunState, isFinished, type Blocked, type RunState } from './state.js';
import {
  decideRegistration,
  isOurs,
  modelVersionName,
  nameTaken,
  recordedRegistration,
  registering,
  rejected,
  type PendingEvent,
  type Registration,
  type RunOutcome,
} from './register.js';
import { desiredStatus, passEvents, type Pass } from './status.js';

const TJ = resources.TrainingJob;
const MV = resources.ModelVersion;

export function trainingJobController(): ControllerOptions {
  return {
    name: 'trainingjob',
    for: TJ,
    // DRA is served from Kubernetes 1.34 only: without it the operator runs, and DRA runs wait.
    owns: [JOB, SERVICE, { resource: RESOURCE_CLAIM_TEMPLATE, optional: true }],
    watches: [
      // Pods belong to the Job, not to the TrainingJob: map them back through the label the Job
      // template sets, and cache only those pods, not every pod of the cluster.
      {
        resource: POD,
        map: (pod) => trainingJobNamed(pod, pod.metadata?.labels?.[LABEL_TRAININGJOB]),
        labelSelector: LABEL_TRAININGJOB,
      },
      // A Job of the same name that is not ours blocks the run (NameConflict); when it goes, retry.
      { resource: JOB, map: (job) => trainingJobNamed(job, job.metadata?.name) },
    ],
    // The model's stable version, for "must beat stable", is read from the cache by this index.
    indexes: [modelVersionsByModel],
    reconcile: reconcileTrainingJob,
  };
}

function trainingJobNamed(obj: KubernetesObject, name: string | undefined): ObjectKey[] {
  const namespace = obj.metadata?.namespace;
  return name && namespace ? [{ namespace, name }] : [];
}

async function reconcileTrainingJob(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
  const tj = ctx.cache.get<TrainingJob>(TJ, key);
  // Gone or going: the Job, Service and claim template follow through their owner references.
  if (!tj || isBeingDeleted(tj)) return;
  const previous = tj.status;
  const recorded = recordedRegistration(tj);
  if (isFinished(previous?.phase) && (previous.phase === 'Failed' || !tj.spec.register || recorded)) {
    // Settled. Its pods, even its Job, may go away now; that must neither rerun the training nor
    // rewrite what it reported.
    await writeStatus(ctx, tj, { tj, run: { phase: previous.phase, conditions: [] } }, []);
    return cleanUp(ctx, tj);
  }

  let pass: Pass;
  if (isFinished(previous?.phase)) {
    // Succeeded and recorded; only the registration is left (it failed to be written, or the spec
    // changed after a refusal). The Job is not looked at again.
    pass = { tj, run: { phase: previous.phase, conditions: [] }, outcome: recordedOutcome(tj) };
  } else {
    const children = await ensureChildren(ctx, tj);
    const pods = ctx.cache.list<Pod>(POD, {
      namespace: key.namespace,
      labelSelector: { [LABEL_TRAININGJOB]: tj.metadata.name },
    });
    const run = decideRunState({ job: children.job, pods, previous, blocked: children.blocked });
    pass = { tj, run, outcome: reportedOutcome(tj, run), createdJob: children.created };
  }

  let retry: unknown;
  if (pass.outcome && tj.spec.register) {
    const result = recorded ? { registration: recorded } : await register(ctx, tj, pass.outcome);
    pass.registration = result.registration;
    retry = 'retry' in result ? result.retry : undefined;
  }
  await writeStatus(ctx, tj, pass, passEvents(previous?.phase, pass));
  // The run is recorded; now let the runtime retry what failed (with backoff, and a Warning Event).
  if (retry !== undefined) throw retry;
}

/**
 * ttlSecondsAfterFinished, applied here rather than by the Job's own TTL: the Job (and its pods, with
 * the report) is deleted only after the run's outcome is recorded, counted from then.
 */
async function cleanUp(ctx: ReconcileContext, tj: TrainingJob): Promise<ReconcileResult> {
  const ttlSeconds = tj.spec.runPolicy?.ttlSecondsAfterFinished;
  const key = { namespace: tj.metadata.namespace, name: tj.metadata.name };
  const job = ctx.cache.get<Job>(JOB, key);
  if (ttlSeconds === undefined || !job || !isOwnedBy(job, tj) || isBeingDeleted(job)) return;
  const finished = findCondition(tj.status?.conditions, 'Finished')?.lastTransitionTime ?? tj.status?.completionTime;
  const dueInMs = (finished ? Date.parse(finished) : 0) + ttlSeconds * 1000 - ctx.now().getTime();
  if (dueInMs > 0) return { requeueAfterMs: dueInMs };
  await ctx.client.delete(JOB, key).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
  ctx.log.info({ job: key.name, ttlSeconds }, 'deleted the finished Job (ttlSecondsAfterFinished)');
}

const isOwnedBy = (obj: KubernetesObject, tj: TrainingJob) =>
  obj.metadata?.ownerReferences?.some((o) => o.uid === tj.metadata.uid) ?? false;

/** One status write per pass; Events only when it changed something, so resyncs stay silent. */
async function writeStatus(ctx: ReconcileContext, tj: TrainingJob, pass: Pass, events: PendingEvent[]): Promise<void> {
  // A recorded run asserts nothing about itself again (what it wrote stays); only a registration may add.
  const status = pass.run.conditions.length || pass.registration ? desiredStatus(pass) : {};
  const changed = await ctx.status.update(TJ, tj, { observedGeneration: tj.metadata.generation, ...status });
  if (!changed) return;
  for (const e of events) await ctx.recorder.event(tj, e.type, e.reason, e.message);
}

interface Children {
  job?: Job;
  blocked?: Blocked;
  /** The name of the Job this pass created. */
  created?: string;
}

/** Creates the Job (and Service, claim template) when missing; returns the Job as cached, or why there is none. */
async function ensureChildren(ctx: ReconcileContext, tj: TrainingJob): Promise<Children> {
  const key = { namespace: tj.metadata.namespace, name: tj.metadata.name };
  const job = ctx.cache.get<Job>(JOB, key);
  if (job) {
    if (!isOwnedBy(job, tj)) {
      return {
        blocked: {
          final: false,
          reason: 'NameConflict',
          message: `a Job named ${key.name} exists and is not owned by this TrainingJob; the run starts when it is gone`,
        },
      };
    }
    // A Job's pod template is immutable; suspend is the one run-policy field that may change.
    const suspend = buildJob(tj).spec?.suspend ?? false;
    if (Boolean(job.spec?.suspend) !== suspend) await ctx.client.patch(JOB, key, { spec: { suspend } });
    return { job };
  }
  // A Job this TrainingJob had is gone: never create another (decideRunState says what happened).
  if (isConditionTrue(tj.status?.conditions, 'Created')) return {};

  const claimTemplate = buildClaimTemplate(tj);
  if (claimTemplate) {
    if (!ctx.cache.isAvailable(RESOURCE_CLAIM_TEMPLATE)) {
      return {
        blocked: {
          final: false,
          reason: 'DRAUnavailable',
          message:
            'this cluster does not serve resource.k8s.io/v1 (Dynamic Resource Allocation, Kubernetes 1.34+): the run starts once it does; or set spec.gpus.allocation to DevicePlugin in a new TrainingJob',
        },
      };
    }
    if (!ctx.cache.get(RESOURCE_CLAIM_TEMPLATE, { namespace: key.namespace, name: claimTemplate.metadata.name })) {
      const refused = await createIfMissing(ctx, RESOURCE_CLAIM_TEMPLATE, claimTemplate, 'ClaimTemplateRejected');
      if (refused) return { blocked: refused };
    }
  }
  const service = buildWorkersService(tj);
  if (service && !ctx.cache.get(SERVICE, { namespace: key.namespace, name: service.metadata!.name! })) {
    const refused = await createIfMissing(ctx, SERVICE, service, 'ServiceRejected');
    if (refused) return { blocked: refused };
  }
  const desired = buildJob(tj);
  const refused = await createIfMissing(ctx, JOB, desired, 'JobRejected');
  if (refused) return { blocked: refused };
  ctx.log.info({ job: key.name }, 'created Job');
  // The cache reads this reconcile's own writes: the status written next already says Created, instead
  // of "creating" and a second write once the watch brings the Job.
  const created = ctx.cache.get<Job>(JOB, key);
  return { job: created && isOwnedBy(created, tj) ? created : undefined, created: key.name };
}

/**
 * Creates `obj`. An object created by an earlier pass is fine (the cache lags the API server); one
 * the API server refuses is final — sending it again cannot help — and says why.
 */
async function createIfMissing(
  ctx: ReconcileContext,
  ref: ResourceRef,
  obj: KubernetesObject,
  refusedReason: string,
): Promise<Blocked | undefined> {
  try {
    await ctx.client.create(ref, obj);
  } catch (err) {
    if (isAlreadyExists(err)) return undefined;
    if (isInvalid(err))
      return { final: true, reason: refusedReason, message: `the API server refused the ${ref.kind}: ${err.message}` };
    throw err;
  }
  return undefined;
}

/** A run that succeeded in this pass: its report, with paths in the container turned into cluster URIs. */
function reportedOutcome(tj: TrainingJob, run: RunState): RunOutcome | undefined {
  const report = run.report;
  if (!report) return undefined;
  const located = (l: typeof report.artifact) => l && { ...l, uri: clusterUri(tj, l.uri) };
  return { metrics: report.metrics, artifact: located(report.artifact), reference: located(report.reference) };
}

function recordedOutcome(tj: TrainingJob): RunOutcome {
  const { metrics = {}, artifact, reference } = tj.status ?? {};
  return { metrics, artifact, reference };
}

/** Decides the registration and creates the ModelVersion it calls for. `retry`: a failure worth retrying. */
async function register(
  ctx: ReconcileContext,
  tj: TrainingJob,
  outcome: RunOutcome,
): Promise<{ registration: Registration; retry?: unknown }> {
  const namespace = tj.metadata.namespace;
  const stable = ctx.cache
    .list<ModelVersion>(MV, { namespace, index: { name: MODEL_INDEX, value: tj.spec.register!.modelName } })
    .find((mv) => mv.status?.role === 'stable');
  const existing = ctx.cache.get<ModelVersion>(MV, { namespace, name: modelVersionName(tj) });
  const decision = decideRegistration(tj, outcome, stable, existing);
  if (!('create' in decision)) return decision;
  const gateMessage = decision.registration.status.gateMessage ?? '';
  try {
    await ctx.client.create(MV, decision.create);
    return decision;
  } catch (err) {
    if (isInvalid(err)) return { registration: rejected(tj, err.message, gateMessage) };
    if (!isAlreadyExists(err)) return { registration: registering(tj, String(err)), retry: err };
    // Created meanwhile (by an earlier pass whose status write failed, or by someone else): whose is it?
    const current = await ctx.client.get<ModelVersion>(MV, { namespace, name: decision.create.metadata.name });
    return { registration: isOurs(tj, current) ? decision.registration : nameTaken(tj, gateMessage) };
  }
}
