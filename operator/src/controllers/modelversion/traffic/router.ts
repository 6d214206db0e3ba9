// One interface for splitting a model's traffic between its stable version and its canary, one file per
// provider (replica-ratio.ts, gateway-api.ts). Providers are pure: from the split the state machine wants
// to the objects that make it (the model's Service, the HTTPRoute, the canary's replica count), and from
// the objects the cluster has to the split it actually makes.
import type { V1Service } from '@kubernetes/client-node';
import type { ModelVersionServingSpec } from '../../../api/index.js';
import { modelLabels, modelServiceName, SERVICE_PORT } from '../names.js';
import type { HTTPRoute } from './httproute.js';

export type Mechanism = 'ReplicaRatio' | 'GatewayAPI';

export interface VersionRef {
  /** The ModelVersion (its Deployment and Service have this name). */
  name: string;
  version: string;
}

export interface CanarySplit extends VersionRef {
  /** Percent of the model's traffic routed to it now (0 while its pods start). */
  weight: number;
  /** The weight its pods are sized for (the current step's, even before it is routed). */
  sizeFor: number;
  /** Experiment by header: only requests with this header reach it; `weight` then applies to the rest. */
  header?: { name: string; value: string };
  /** Its own spec.serving.replicas. */
  replicas: number;
}

/** What the state machine decided for the model. */
export interface DesiredSplit {
  model: string;
  namespace: string;
  /** The version that gets the rest of the traffic; none while no version of the model has been ready yet. */
  stable?: VersionRef & { replicas: number };
  canary?: CanarySplit;
  /** Every ModelVersion of the model: an existing route's rules that point at any of their Services are ours. */
  versionNames: string[];
}

/** What the cluster has now, for `actual`. */
export interface ObservedRouting {
  modelService?: V1Service;
  route?: HTTPRoute;
  stableReadyReplicas: number;
  canaryReadyReplicas: number;
}

/** An HTTPRoute the operator owns (applied whole) or an existing one whose rules it rewrites. */
export type RouteChange = { owned: HTTPRoute } | { existing: HTTPRoute };

export interface RoutingPlan {
  modelService: V1Service;
  route?: RouteChange;
  /** Replicas the canary needs for this split. */
  canaryReplicas: number;
}

export interface TrafficRouter {
  readonly mechanism: Mechanism;
  /** The objects that make `split` (pure). `observed.route` is the existing route to rewrite, if any. */
  desired(split: DesiredSplit, observed: ObservedRouting): RoutingPlan;
  /** Percent of traffic the canary actually gets; undefined when the objects are not there yet. */
  actualCanaryWeight(split: DesiredSplit, observed: ObservedRouting): number | undefined;
  /** Whether the cluster already makes `split` (the objects written, the canary's pods ready): a step is reached. */
  inPlace(split: DesiredSplit, observed: ObservedRouting): boolean;
}

/** The model's Service: what clients call. Its selector is the one thing the providers decide about it. */
export function buildModelService(split: DesiredSplit, selector: Record<string, string>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: modelServiceName(split.model), namespace: split.namespace, labels: modelLabels(split.model) },
    spec: {
      selector,
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export type GatewayApiSpec = NonNullable<NonNullable<ModelVersionServingSpec['traffic']>['gatewayAPI']>;
