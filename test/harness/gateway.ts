// An IMITATION of a Gateway API data plane, for the test bed only: no gateway can be built here (Envoy-based
// ones are C++, Traefik's Go modules are refused by the module proxy), so the load driver routes each request
// itself, by one HTTPRoute's rules as the Gateway API specifies them — matches (path, method, headers, query
// parameters) with the spec's precedence, then a weighted choice among the rule's backendRefs — and sends it
// to the chosen Service's ClusterIP, where kube-proxy picks the pod. A real gateway usually sends to the
// endpoints directly; the split between Services, which is what a canary's weights set, is the same.
// Filters and cross-namespace backends are not imitated; the route's status is written by the bed's agent
// (test/bed/dataplane/route-status.ts).

export interface HttpRoute {
  metadata?: { namespace?: string; name?: string; generation?: number };
  spec?: { rules?: HttpRouteRule[] };
}

export interface HttpRouteRule {
  matches?: HttpRouteMatch[];
  backendRefs?: BackendRef[];
}

export interface HttpRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  method?: string;
  headers?: ValueMatch[];
  queryParams?: ValueMatch[];
}

interface ValueMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface RouteRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query?: Record<string, string>;
}

/** The backend a gateway would send the request to, or the status it would answer with instead. */
export type RouteDecision = { backend: BackendRef } | { status: 404 | 500; reason: string };

export function routeRequest(route: HttpRoute, request: RouteRequest, random: () => number): RouteDecision {
  let best: { rule: HttpRouteRule; rank: number[] } | undefined;
  for (const rule of route.spec?.rules ?? []) {
    for (const match of rule.matches?.length ? rule.matches : [{}]) {
      if (!matches(match, request)) continue;
      const rank = precedence(match);
      // Equal precedence: the first rule in the route wins (the spec's last tie-breaker).
      if (!best || compareRanks(rank, best.rank) > 0) best = { rule, rank };
    }
  }
  if (!best) return { status: 404, reason: 'no rule of the route matches' };
  return pickBackend(best.rule.backendRefs ?? [], random);
}

/** A weighted choice; weight 0 takes no traffic, and a rule with no weight left answers 500 (the spec's). */
export function pickBackend(backends: readonly BackendRef[], random: () => number): RouteDecision {
  const supported = backends.filter((b) => (b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service');
  const total = supported.reduce((sum, b) => sum + weight(b), 0);
  if (total === 0) return { status: 500, reason: 'the rule has no backend with a weight above 0' };
  let point = random() * total;
  for (const backend of supported) {
    point -= weight(backend);
    if (point < 0 && weight(backend) > 0) return { backend };
  }
  return { backend: supported.findLast((b) => weight(b) > 0)! };
}

const weight = (backend: BackendRef) => backend.weight ?? 1;

function matches(match: HttpRouteMatch, request: RouteRequest): boolean {
  const path = match.path ?? { type: 'PathPrefix', value: '/' };
  if (!pathMatches(path.type ?? 'PathPrefix', path.value ?? '/', request.path)) return false;
  if (match.method && match.method !== request.method) return false;
  const headers = lowerKeys(request.headers);
  if (!(match.headers ?? []).every((h) => valueMatches(h, headers[h.name.toLowerCase()]))) return false;
  return (match.queryParams ?? []).every((q) => valueMatches(q, request.query?.[q.name]));
}

function pathMatches(type: string, value: string, path: string): boolean {
  if (type === 'Exact') return path === value;
  if (type === 'RegularExpression') return new RegExp(`^(?:${value})$`).test(path);
  const prefix = value.replace(/\/+$/, '');
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

function valueMatches(match: ValueMatch, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return match.type === 'RegularExpression' ? new RegExp(`^(?:${match.value})$`).test(actual) : actual === match.value;
}

/** The spec's order: an exact path, then the longest prefix, then a method, most headers, most query params. */
function precedence(match: HttpRouteMatch): number[] {
  const type = match.path?.type ?? 'PathPrefix';
  return [
    type === 'Exact' ? 1 : 0,
    type === 'PathPrefix' ? (match.path?.value ?? '/').length : 0,
    match.method ? 1 : 0,
    match.headers?.length ?? 0,
    match.queryParams?.length ?? 0,
  ];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
