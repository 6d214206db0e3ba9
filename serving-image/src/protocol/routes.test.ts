import { matchRoute } from './routes.js';

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
])('%s %s → %d', (method, url, status) => {
  expect(matchRoute(method, url)).toMatchObject({ status });
});
