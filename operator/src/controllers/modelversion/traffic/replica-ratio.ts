// Traffic by replica ratio, for any cluster: the model's Service selects the pods of the stable and the
// canary, and kube-proxy spreads requests evenly over ready pods, so the canary's share is its share of
// the pods. The stable keeps its replicas (a rollback needs no pod to start); the canary is sized to
// approximate the weight, and the actual split is reported as it is.
import { isDeepStrictEqual } from 'node:util';
import { LABEL_MODELVERSION, modelSelector, versionSelector } from '../names.js';
import { buildModelService, type DesiredSplit, type ObservedRouting, type TrafficRouter } from './router.js';

/** The most pods a canary is given to approximate a high weight next to a large stable. */
export const MAX_CANARY_REPLICAS = 100;

/** round(stable × w / (100 − w)), at least 1; at 100 % (or with no stable) the canary's own replica count. */
export function canaryReplicasFor(weight: number, stableReplicas: number, canaryReplicas: number): number {
  if (weight >= 100 || stableReplicas === 0) return canaryReplicas;
  const ratio = Math.round((stableReplicas * weight) / (100 - weight));
  return Math.min(MAX_CANARY_REPLICAS, Math.max(1, ratio));
}

function selector(split: DesiredSplit): Record<string, string> {
  const { stable, canary } = split;
  if (canary && (canary.weight >= 100 || !stable)) return versionSelector(canary.name);
  if (canary && canary.weight > 0) return modelSelector(split.model);
  return versionSelector(stable?.name ?? canary!.name);
}

const canaryReplicas = ({ stable, canary }: DesiredSplit) =>
  canary ? canaryReplicasFor(canary.sizeFor, stable?.replicas ?? 0, canary.replicas) : 0;

export const replicaRatioRouter: TrafficRouter = {
  mechanism: 'ReplicaRatio',

  desired(split) {
    return { modelService: buildModelService(split, selector(split)), canaryReplicas: canaryReplicas(split) };
  },

  inPlace(split, observed) {
    return (
      isDeepStrictEqual(observed.modelService?.spec?.selector, selector(split)) &&
      observed.canaryReadyReplicas >= canaryReplicas(split)
    );
  },

  actualCanaryWeight(split, observed: ObservedRouting) {
    const current = observed.modelService?.spec?.selector;
    if (!current || !split.canary) return current ? 0 : undefined;
    const only = current[LABEL_MODELVERSION];
    if (only !== undefined) return only === split.canary.name ? 100 : 0;
    const total = observed.stableReadyReplicas + observed.canaryReadyReplicas;
    return total === 0 ? undefined : (100 * observed.canaryReadyReplicas) / total;
  },
};
