// The Open Inference Protocol's HTTP paths (plus the model repository extension and /metrics), matched by
// splitting the path rather than by a router: there are few routes and this is on every request's path.

export type Route =
  | { kind: 'live' | 'ready' | 'server' | 'metrics' | 'repository-index' }
  | { kind: 'model' | 'model-ready' | 'infer'; name: string; version: string | undefined }
  | { kind: 'load' | 'unload'; name: string };

export type RouteMatch = { route: Route } | { status: 404 | 405; error: string };

const METHODS: Record<Route['kind'], 'GET' | 'POST'> = {
  live: 'GET',
  ready: 'GET',
  server: 'GET',
  metrics: 'GET',
  model: 'GET',
  'model-ready': 'GET',
  infer: 'POST',
  load: 'POST',
  unload: 'POST',
  'repository-index': 'POST',
};

// The handful of URLs a server sees (its model's infer path, the probes, /metrics) are matched once each.
const ROUTE_CACHE_SIZE = 64;
const routeCache = new Map<string, { route: Route }>();

/** How many URLs the route cache holds: bounded, however many distinct URLs a scanner sends. */
export const routeCacheSize = (): number => routeCache.size;

export function matchRoute(method: string, url: string): RouteMatch {
  const cached = routeCache.get(url);
  if (cached !== undefined && METHODS[cached.route.kind] === method) return cached;
  return matchUncached(method, url);
}

function matchUncached(method: string, url: string): RouteMatch {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const route = routeOf(path);
  if (!route) return { status: 404, error: `no route for ${path.slice(0, 200)}` };
  const expected = METHODS[route.kind];
  // HEAD is how some probes ask; answer it like GET.
  if (method !== expected && !(method === 'HEAD' && expected === 'GET')) {
    return { status: 405, error: `${method} is not allowed on ${path}; use ${expected}` };
  }
  if (routeCache.size >= ROUTE_CACHE_SIZE) routeCache.clear(); // a scanner's stream of URLs only costs misses
  const match = { route };
  routeCache.set(url, match);
  return match;
}

function routeOf(path: string): Route | undefined {
  if (path === '/metrics') return { kind: 'metrics' };
  const parts = path.split('/');
  if (parts[0] !== '' || parts[1] !== 'v2') return undefined;
  const rest = parts.slice(2).map(decodeSegment);
  if (rest.some((part) => part === undefined)) return undefined;
  const [a, b, c, d, e] = rest as string[];
  switch (rest.length) {
    case 0:
      return { kind: 'server' };
    case 2:
      if (a === 'health' && (b === 'live' || b === 'ready')) return { kind: b };
      if (a === 'repository' && b === 'index') return { kind: 'repository-index' };
      if (a === 'models' && b) return { kind: 'model', name: b, version: undefined };
      return undefined;
    case 3:
      if (a === 'models' && b && (c === 'ready' || c === 'infer')) return modelRoute(c, b, undefined);
      return undefined;
    case 4:
      if (a === 'models' && b && c === 'versions' && d) return { kind: 'model', name: b, version: d };
      if (a === 'repository' && b === 'models' && c && (d === 'load' || d === 'unload')) return { kind: d, name: c };
      return undefined;
    case 5:
      if (a === 'models' && b && c === 'versions' && d && (e === 'ready' || e === 'infer')) return modelRoute(e, b, d);
      return undefined;
    default:
      return undefined;
  }
}

function modelRoute(action: 'ready' | 'infer', name: string, version: string | undefined): Route {
  return { kind: action === 'ready' ? 'model-ready' : 'infer', name, version };
}

function decodeSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
