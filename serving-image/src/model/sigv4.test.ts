import { signRequest } from './sigv4.js';

// The GET Object example from the AWS S3 documentation ("Signature Calculations for the Authorization Header").
test('matches the documented S3 GET Object example', () => {
  const headers = signRequest(
    'GET',
    new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
    { range: 'bytes=0-9' },
    {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: undefined,
      region: 'us-east-1',
    },
    new Date('2013-05-24T00:00:00Z'),
  );
  expect(headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  expect(headers['x-amz-date']).toBe('20130524T000000Z');
});

test('signs the session token and encodes path segments', () => {
  const headers = signRequest(
    'GET',
    new URL('http://minio:9000/models/fraud%20v2/model.onnx'),
    {},
    { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'TOKEN', region: 'eu-west-1' },
    new Date('2026-01-02T03:04:05.678Z'),
  );
  expect(headers['x-amz-security-token']).toBe('TOKEN');
  expect(headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AK\/20260102\/eu-west-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
  );
});

// The other two examples of that page: a signed query string, sorted by name, and a parameter without a value. Then,
// as botocore 1.43 signs them, a key and a query with the characters that encodeURIComponent leaves alone and RFC 3986
// encodes (in upper-case hex): ! ' ( ) *, and parameters sorted by name, a repeated one by its values.
const EXAMPLE_KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: undefined,
  region: 'us-east-1',
};
test.each([
  ['?max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
  ['?prefix=J&max-keys=2', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
  ['?lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'],
  ["photos/a*b(c)!'.txt", 'f244f4ef0c011ebbab5fa3d6a92c37ee95ea022b2768ee8b3720cb626cbce8d0'],
  ['?prefix=a*(', '30dae61d2723ee8fc0a6cb1b8da8b4c57b1f879422f11680d1d09bd069b02bc5'],
  ['?a=3&a=1&a=2', 'fd82b1581e915fae2e78c0cd926e1c0e436222a744a5f78be278215a9ce2dfe4'],
  ['?b=1&a=2', '8f57b206e830215d5d5633731e74f1f60dcdffe58cbc488c780466021ad0305b'], // by name, not by value
])('matches the reference signature of GET /%s', (pathAndQuery, signature) => {
  const url = new URL(`https://examplebucket.s3.amazonaws.com/${pathAndQuery}`);
  const headers = signRequest('GET', url, {}, EXAMPLE_KEY, new Date('2013-05-24T00:00:00Z'));
  expect(headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
      `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
  );
});
