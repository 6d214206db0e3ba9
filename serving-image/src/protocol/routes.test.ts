import { matchRoute, routeCacheSize } from './routes.js';

test.each([
  ['GET', '/v2', { kind: 'server' }],
  ['GET', '/v2/health/live', { kind: 'live' }],
  ['HEAD', '/v2/health/ready', { kind: 'ready' }],
  ['GET', '/v2/models/fraud%20v2', { kind: 'model', name: 'fraud v2', version: undefined }],
  ['GET', '/v2/models/fraud/versions/7', { kind: 'model', name: 'fraud', version: '7' }],
  ['GET', '/v2/models/fraud/ready?verbose=1', { kind: 'model-ready', name: 'fraud', version: undefined }],
  ['POST', '/v2/models/fraud/versions/7/infer', { kind: 'infer', name: 'fraud', version: '7' }],
  ['POST', '/v2/repository/models/fraud/load', { kind: 'load', name: 'fraud' }],
  ['POST', '/v2/repository/models/fraud/unload', { kind: 'unload', name: 'fraud' }],
  ['POST', '/v2/repository/index', { kind: 'repository-index' }],
  ['GET', '/metrics', { kind: 'metrics' }],
])('%s %s', (method, url, route) => {
  expect(matchRoute(method, url)).toEqual({ route });
});

test.each([
  ['GET', '/', 404],
  ['GET', '/v2/', 404],
  ['GET', '/v1/models/fraud', 404],
  ['GET', '/v2/models/%E0%A4%A/ready', 404],
  ['GET', '/v2/models/fraud/versions/1/infer/more', 404],
  ['DELETE', '/v2/models/fraud', 405],
  ['GET', '/v2/repository/models/fraud/load', 405],
  ['POST', '/v2/repository/models/fraud/reload', 404],
  ['GET', 'x/v2/health/live', 404],
  ['GET', '/v2/health/other', 404],
  ['GET', '/v2/other/live', 404],
  ['POST', '/v2/repository/other', 404],
  ['POST', '/v2/other/index', 404],
  ['GET', '/v2/other/fraud', 404],
  ['GET', '/v2/models/', 404],
  ['GET', '/v2/models//ready', 404],
  ['GET', '/v2/models/fraud/other', 404],
  ['GET', '/v2/other/fraud/ready', 404],
  ['GET', '/v2/models/fraud/versions/', 404],
  ['GET', '/v2/models//versions/7', 404],
  ['GET', '/v2/models/fraud/other/7', 404],
  ['GET', '/v2/other/fraud/versions/7', 404],
  ['POST', '/v2/repository/models//load', 404],
  ['POST', '/v2/repository/other/fraud/load', 404],
  ['POST', '/v2/other/models/fraud/load', 404],
  ['POST', '/v2/models/fraud/versions/7/other', 404],
  ['POST', '/v2/models/fraud/versions//infer', 404],
  ['POST', '/v2/models//versions/7/infer', 404],
  ['POST', '/v2/models/fraud/other/7/infer', 404],
  ['POST', '/v2/other/fraud/versions/7/infer', 404],
  ['HEAD', '/v2/models/fraud/infer', 405], // HEAD stands in for GET only
])('%s %s → %d', (method, url, status) => {
  expect(matchRoute(method, url)).toMatchObject({ status });
});

test('the errors name the path (its first 200 characters) and the method to use', () => {
  const long = `/${'x'.repeat(300)}`;
  expect(matchRoute('GET', `${long}?q=1`)).toEqual({ status: 404, error: `no route for ${long.slice(0, 200)}` });
  expect(matchRoute('GET', '/v2/repository/models/fraud/load?x')).toEqual({
    status: 405,
    error: 'GET is not allowed on /v2/repository/models/fraud/load; use POST',
  });
});

test('a URL matched before is matched again for its method only', () => {
  expect(matchRoute('POST', '/v2/models/fraud/infer')).toEqual({
    route: { kind: 'infer', name: 'fraud', version: undefined },
  });
  expect(matchRoute('GET', '/v2/models/fraud/infer')).toMatchObject({ status: 405 });
  expect(matchRoute('POST', '/v2/models/fraud/infer')).toEqual({
    route: { kind: 'infer', name: 'fraud', version: undefined },
  });
});

test("the route cache stays bounded however many distinct URLs arrive (a scanner's stream), and keeps matching", () => {
  const sizes = Array.from({ length: 200 }, (_, i) => {
    expect(matchRoute('POST', `/v2/models/m${i}/infer`)).toEqual({
      route: { kind: 'infer', name: `m${i}`, version: undefined },
    });
    return routeCacheSize();
  });
  expect(Math.max(...sizes)).toBe(64);
});
