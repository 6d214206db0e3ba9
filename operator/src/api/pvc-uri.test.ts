import { parsePvcUri, pvcUri } from './pvc-uri.js';

test.each([
  ['pvc://models/fraud/v1/model.onnx', { claim: 'models', path: '/fraud/v1/model.onnx' }],
  ['pvc://models/', { claim: 'models', path: '/' }],
  ['pvc://models', { claim: 'models', path: '' }],
])('%s: the claim and the path on it', (uri, location) => {
  expect(parsePvcUri(uri)).toEqual(location);
  expect(pvcUri(location)).toBe(uri);
});

test.each([
  ['another scheme', 's3://models/fraud/model.onnx'],
  ['no claim', 'pvc:///fraud/model.onnx'],
  ['text before the scheme', 'x-pvc://models/model.onnx'],
  ['no scheme', 'models/model.onnx'],
  ['empty', ''],
  ['a second line', 'pvc://models/model.onnx\nrm -rf /'],
])('not a pvc:// URI: %s', (_case, uri) => {
  expect(parsePvcUri(uri)).toBeUndefined();
});
