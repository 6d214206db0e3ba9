import { AccessPolicy } from './access.js';
import type { Route } from './routes.js';

const OPEN: Route['kind'][] = ['live', 'ready', 'model-ready', 'metrics'];
const API: Route['kind'][] = ['server', 'model', 'infer', 'repository-index'];
const CONTROL: Route['kind'][] = ['load', 'unload'];

test('without keys: everything but model control is open, and model control is refused', () => {
  const policy = new AccessPolicy({ apiKey: undefined, modelControlKey: undefined });
  for (const kind of [...OPEN, ...API]) expect(policy.check(kind, undefined)).toBeUndefined();
  for (const kind of CONTROL) {
    expect(policy.check(kind, 'Bearer anything')).toMatchObject({ status: 403, scope: 'control', reason: 'disabled' });
  }
});

describe('with an API key', () => {
  const policy = new AccessPolicy({ apiKey: 's3cret', modelControlKey: undefined });

  const missing = {
    status: 401,
    scope: 'api',
    reason: 'missing',
    error: 'this route needs an Authorization: Bearer token',
  };
  const invalid = { status: 401, scope: 'api', reason: 'invalid', error: 'the bearer token is not valid' };
  test.each(API)('%s needs it', (kind) => {
    for (const authorization of [undefined, '']) expect(policy.check(kind, authorization)).toEqual(missing);
    for (const authorization of [
      'Bearer s3cre',
      'Bearer s3cret2',
      'Basic s3cret',
      's3cret',
      'xBearer s3cret',
      'Bearer s3cret extra',
    ]) {
      expect(policy.check(kind, authorization)).toEqual(invalid);
    }
    expect(policy.check(kind, 'Bearer s3cret')).toBeUndefined();
    expect(policy.check(kind, 'bearer s3cret')).toBeUndefined(); // the scheme is case-insensitive (RFC 9110)
    expect(policy.check(kind, 'Bearer   s3cret  ')).toBeUndefined(); // spaces around the token
  });

  test.each(OPEN)('%s stays open for probes and scrapes', (kind) => {
    expect(policy.check(kind, undefined)).toBeUndefined();
    expect(policy.check(kind, 'Bearer wrong')).toBeUndefined();
  });

  test('it does not open model control', () => {
    expect(policy.check('load', 'Bearer s3cret')).toMatchObject({ status: 403 });
  });
});

test('model control needs its own key; the API key does not open it', () => {
  const policy = new AccessPolicy({ apiKey: 'api', modelControlKey: 'control' });
  for (const kind of CONTROL) {
    expect(policy.check(kind, undefined)).toMatchObject({ status: 401, scope: 'control', reason: 'missing' });
    expect(policy.check(kind, 'Bearer api')).toMatchObject({ status: 401, scope: 'control', reason: 'invalid' });
    expect(policy.check(kind, 'Bearer control')).toBeUndefined();
  }
  expect(policy.check('infer', 'Bearer control')).toMatchObject({ status: 401, scope: 'api' });
});
