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
