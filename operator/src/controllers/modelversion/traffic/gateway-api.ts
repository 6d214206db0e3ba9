// Traffic by a Gateway API HTTPRoute's backendRef weights: exact whatever the replica counts, and able
// to send only requests carrying a header to the canary. Either the operator owns the route (named after
// the model, attached to the spec's parentRefs) or it takes over the weights of an existing route's rules
// that point at the model's Services, leaving everything else of that route alone.
import { isDeepStrictEqual } from 'node:util';
import { modelLabels, routeName, SERVICE_PORT, versionSelector } from '../names.js';
import { isServiceRef, type BackendRef, type HTTPRoute, type RouteRule } from './httproute.js';
import {
  buildModelService,
  type DesiredSplit,
  type GatewayApiSpec,
  type ObservedRouting,
  type TrafficRouter,
} from './router.js';

const backend = (name: string, weight: number): BackendRef => ({ name, port: SERVICE_PORT, weight });

/** The weighted backends of the default rule: only versions with a share (a route needs at least one). */
export function weightedBackends(split: DesiredSplit): BackendRef[] {
  const { stable, canary } = split;
  const canaryWeight = canary ? (stable ? canary.weight : 100) : 0;
  return [
    ...(stable && canaryWeight < 100 ? [backend(stable.name, 100 - canaryWeight)] : []),
    ...(canary && canaryWeight > 0 ? [backend(canary.name, canaryWeight)] : []),
  ];
}

/** Requests with the experiment's header go to the canary alone (a header match is more specific than none). */
function headerRule(split: DesiredSplit): RouteRule | undefined {
  const header = split.canary?.header;
  if (!header) return undefined;
  return {
    matches: [{ headers: [{ type: 'Exact', name: header.name, value: header.value }] }],
    backendRefs: [backend(split.canary!.name, 1)],
  };
}

export function buildRoute(split: DesiredSplit, spec: GatewayApiSpec): HTTPRoute {
  const header = headerRule(split);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: routeName(split.model), namespace: split.namespace, labels: modelLabels(split.model) },
    spec: {
      parentRefs: spec.parentRefs!.map((p) => ({ ...p })),
      ...(spec.hostnames?.length ? { hostnames: [...spec.hostnames] } : {}),
      rules: [...(header ? [header] : []), { backendRefs: weightedBackends(split) }],
    },
  };
}

/** Does this rule send traffic to one of the model's Services (its own or a version's)? */
function isModelRule(rule: RouteRule, names: Set<string>): boolean {
  return (rule.backendRefs ?? []).some((ref) => isServiceRef(ref) && names.has(ref.name));
}

/** The existing route with the weights of the model's rules replaced; every other rule and field kept. */
export function rewriteRoute(route: HTTPRoute, split: DesiredSplit): HTTPRoute {
  const names = new Set([split.model, ...split.versionNames]);
  const rules = (route.spec.rules ?? []).map((rule) =>
    isModelRule(rule, names) ? { ...rule, backendRefs: weightedBackends(split) } : rule,
  );
  return { ...route, spec: { ...route.spec, rules } };
}

/** The canary's percent in the first of the model's rules without a header match (the default path). */
function routeCanaryWeight(route: HTTPRoute, split: DesiredSplit): number | undefined {
  const names = new Set([split.model, ...split.versionNames]);
  const rule = (route.spec.rules ?? []).find(
    (r) => isModelRule(r, names) && !(r.matches ?? []).some((m) => m.headers?.length),
  );
  if (!rule) return undefined;
  const refs = (rule.backendRefs ?? []).filter(isServiceRef);
  const total = refs.reduce((sum, r) => sum + (r.weight ?? 1), 0);
  const canary = refs.filter((r) => r.name === split.canary?.name).reduce((sum, r) => sum + (r.weight ?? 1), 0);
  return total === 0 ? 0 : (100 * canary) / total;
}

/** Clients that call the model's Service directly, bypassing the gateway, stay on the stable. */
const modelServiceSelector = ({ stable, canary }: DesiredSplit) => versionSelector(stable?.name ?? canary!.name);

/** The header rule as the API server keeps it (it adds defaults: a path match, backend group and kind). */
const hasHeaderRule = (route: HTTPRoute, split: DesiredSplit) => {
  const header = split.canary!.header!;
  return (route.spec.rules ?? []).some(
    (r) =>
      (r.matches ?? []).some((m) => m.headers?.some((h) => h.name === header.name && h.value === header.value)) &&
      (r.backendRefs ?? []).some((b) => isServiceRef(b) && b.name === split.canary!.name),
  );
};

export function gatewayApiRouter(spec: GatewayApiSpec): TrafficRouter {
  return {
    mechanism: 'GatewayAPI',

    desired(split, observed) {
      const { canary } = split;
      const modelService = buildModelService(split, modelServiceSelector(split));
      const route = spec.parentRefs
        ? { owned: buildRoute(split, spec) }
        : observed.route
          ? { existing: rewriteRoute(observed.route, split) }
          : undefined;
      return { modelService, ...(route ? { route } : {}), canaryReplicas: canary ? canary.replicas : 0 };
    },

    actualCanaryWeight(split, observed: ObservedRouting) {
      if (!observed.route) return undefined;
      return split.canary ? routeCanaryWeight(observed.route, split) : 0;
    },

    inPlace(split, observed) {
      const { stable, canary } = split;
      const expected = canary ? (stable ? canary.weight : 100) : 0;
      return (
        observed.route !== undefined &&
        routeCanaryWeight(observed.route, split) === expected &&
        (!canary?.header || hasHeaderRule(observed.route, split)) &&
        isDeepStrictEqual(observed.modelService?.spec?.selector, modelServiceSelector(split)) &&
        (!canary || observed.canaryReadyReplicas >= canary.replicas)
      );
    },
  };
}
