// From what the state machine decided for a version to the status it writes: phase, role, weights,
// the model's split, the rollout and analysis, and the five conditions a user waits on.
import type { ConditionInput, DesiredStatus } from '../../runtime/index.js';
import { modelUrl, routeName } from './names.js';
import type { Draft, ModelPlan } from './rollout.js';
import type { ModelView } from './view.js';

const cond = (type: string, status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
  type,
  status,
  reason,
  message,
});

function readyCondition(d: Draft, model: string): ConditionInput {
  const ready = d.view.deployment?.readyReplicas ?? 0;
  const pods = `${ready}/${d.replicas} pods ready`;
  const replacedBy = d.rollout.replacedBy ?? 'a newer version';
  switch (d.phase) {
    case 'Serving':
      return ready > 0
        ? cond('Ready', 'True', 'Serving', `serving ${d.weight} % of ${model} as the stable version (${pods})`)
        : cond('Ready', 'False', 'NoReadyPods', `the stable version has no ready pod (${pods})`);
    case 'Canary':
    case 'Paused':
    case 'Experiment':
      return ready > 0 && (d.weight > 0 || d.rollout.stepReachedAt)
        ? cond('Ready', 'True', d.phase, `serving ${d.weight} % of ${model} as the canary (${pods})`)
        : cond('Ready', 'False', d.progressing?.reason ?? d.phase, d.progressing?.message ?? pods);
    case 'Deploying':
      return cond('Ready', 'False', 'Deploying', `waiting for pods: ${pods}`);
    case 'RolledBack':
      return cond('Ready', 'False', 'RolledBack', 'rolled back: no traffic (modelops.dev/retry starts it again)');
    case 'Superseded':
      return cond('Ready', 'False', 'Superseded', `superseded by ${replacedBy}: no traffic`);
    case 'Retired':
      return cond('Ready', 'False', 'Retired', `replaced as stable by ${replacedBy}: no traffic`);
    case 'Failed':
      return cond('Ready', 'False', d.degraded?.reason ?? 'Failed', d.degraded?.message ?? 'cannot be served');
    default:
      return cond('Ready', 'False', 'Pending', 'waiting for the model’s other versions to be decided');
  }
}

function progressingCondition(d: Draft): ConditionInput {
  if (d.progressing) return d.progressing;
  switch (d.phase) {
    case 'Serving':
      return cond('Progressing', 'False', 'Stable', 'serving as the stable version');
    case 'Deploying':
      return cond('Progressing', 'True', 'Deploying', 'starting its pods');
    case 'RolledBack':
      return cond('Progressing', 'False', 'RolledBack', 'rolled back');
    default:
      return cond('Progressing', 'False', d.phase, d.phase === 'Pending' ? 'not started' : `${d.phase.toLowerCase()}`);
  }
}

/** Terminal conditions keep the words of the transition that set them. */
function keep(d: Draft, type: string) {
  return d.view.mv.status?.conditions?.find((c) => c.type === type);
}

function promotedCondition(d: Draft): ConditionInput {
  if (d.promoted) return cond('Promoted', 'True', d.promoted.reason, d.promoted.message);
  const previous = keep(d, 'Promoted');
  if (d.rollout.promotedAt && previous?.status === 'True')
    return cond('Promoted', 'True', previous.reason, previous.message);
  if (d.rollout.promotedAt) return cond('Promoted', 'True', 'Promoted', 'became the stable version');
  return cond('Promoted', 'False', d.phase, 'not promoted');
}

function rolledBackCondition(d: Draft): ConditionInput {
  if (d.rolledBack) return cond('RolledBack', 'True', d.rolledBack.reason, d.rolledBack.message);
  const previous = keep(d, 'RolledBack');
  if (d.phase === 'RolledBack' && previous?.status === 'True')
    return cond('RolledBack', 'True', previous.reason, previous.message);
  if (d.retried) return cond('RolledBack', 'False', 'Retried', 'retried by modelops.dev/retry');
  if (previous?.status === 'False') return cond('RolledBack', 'False', previous.reason, previous.message);
  return cond('RolledBack', 'False', 'NotRolledBack', 'not rolled back');
}

const degradedCondition = (d: Draft): ConditionInput =>
  d.degraded
    ? cond('Degraded', 'True', d.degraded.reason, d.degraded.message)
    : cond('Degraded', 'False', 'AsExpected', 'nothing holds it back');

/** The model's split, reported by its stable and its canary. */
function trafficStatus(d: Draft, plan: ModelPlan) {
  if (!plan.routing || (d.role !== 'stable' && d.role !== 'canary')) return undefined;
  const { router, split, observed } = plan.routing;
  const actual = router.actualCanaryWeight(split, observed);
  const canaryWeight = split.canary?.weight ?? 0;
  const gateway = d.view.mv.spec.serving?.traffic?.gatewayAPI;
  return {
    mechanism: router.mechanism,
    ...(split.stable ? { stable: { ...pick(split.stable), weight: split.canary ? 100 - canaryWeight : 100 } } : {}),
    ...(split.canary ? { canary: { ...pick(split.canary), weight: canaryWeight } } : {}),
    ...(actual !== undefined ? { actualCanaryWeight: Math.round(actual * 100) / 100 } : {}),
    ...(router.mechanism === 'GatewayAPI' && gateway
      ? { route: gateway.httpRoute ?? routeName(d.view.mv.spec.model) }
      : {}),
  };
}

const pick = ({ name, version }: { name: string; version: string }) => ({ name, version });

export function versionStatus(d: Draft, plan: ModelPlan, view: ModelView): DesiredStatus {
  const mv = d.view.mv;
  const handled = Object.keys(d.handled).length ? d.handled : undefined;
  const rollout = Object.keys(d.rollout).length ? d.rollout : undefined;
  return {
    observedGeneration: mv.metadata.generation,
    phase: d.phase,
    role: d.role,
    weight: d.weight,
    replicas: d.replicas === 'autoscaled' ? undefined : d.replicas,
    readyReplicas: d.view.deployment?.readyReplicas ?? 0,
    url: modelUrl(view.namespace, view.model),
    traffic: trafficStatus(d, plan),
    rollout,
    analysis: d.analysis,
    worstCaseDetectionSeconds: d.role === 'canary' ? d.worstCaseDetectionSeconds : undefined,
    handledActions: handled,
    conditions: [
      readyCondition(d, view.model),
      progressingCondition(d),
      promotedCondition(d),
      rolledBackCondition(d),
      degradedCondition(d),
    ],
  };
}
