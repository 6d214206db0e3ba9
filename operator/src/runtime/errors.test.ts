import {
  ReconcileAbortedError,
  ResourceUnavailableError,
  TerminalError,
  AlreadyExistsError,
  ApiError,
  ConflictError,
  GoneError,
  NotFoundError,
  apiErrorFrom,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNamespaceTerminating,
  isNotFound,
} from './errors.js';

describe('apiErrorFrom: a failed response as the most specific error', () => {
  test.each([
    [
      '404',
      404,
      { reason: 'NotFound', message: 'pods "x" not found' },
      NotFoundError,
      'NotFound',
      'pods "x" not found',
    ],
    ['404 without a Status body', 404, undefined, NotFoundError, 'NotFound', 'GET /x: 404'],
    [
      '409 AlreadyExists',
      409,
      { reason: 'AlreadyExists', message: 'exists' },
      AlreadyExistsError,
      'AlreadyExists',
      'exists',
    ],
    [
      '409 a stale resourceVersion',
      409,
      { reason: 'Conflict', message: 'modified' },
      ConflictError,
      'Conflict',
      'modified',
    ],
    ['409 without a reason', 409, { message: 'conflict' }, ConflictError, 'Conflict', 'conflict'],
    ['410 without a reason', 410, {}, GoneError, 'Expired', 'GET /x: 410'],
    ['410 with its reason', 410, { reason: 'Gone' }, GoneError, 'Gone', 'GET /x: 410'],
    ['422', 422, { reason: 'Invalid', message: 'spec.x: Required' }, ApiError, 'Invalid', 'spec.x: Required'],
    ['500 without a body', 500, undefined, ApiError, '', 'GET /x: 500'],
  ] as const)('%s', (_case, status, body, type, reason, message) => {
    const err = apiErrorFrom(status, body, `GET /x: ${status}`);
    expect(err).toBeInstanceOf(type);
    expect(err.constructor).toBe(type);
    expect(err).toMatchObject({ status, reason, message, name: type.name });
    expect(err.body).toBe(body);
  });

  test('the predicates tell the classes apart', () => {
    const notFound = apiErrorFrom(404, undefined, 'x');
    const exists = apiErrorFrom(409, { reason: 'AlreadyExists' }, 'x');
    const conflict = apiErrorFrom(409, undefined, 'x');
    expect([isNotFound(notFound), isNotFound(conflict), isNotFound(new Error('404'))]).toEqual([true, false, false]);
    expect([isAlreadyExists(exists), isAlreadyExists(conflict)]).toEqual([true, false]);
    expect([isConflict(conflict), isConflict(exists), isConflict(notFound)]).toEqual([true, false, false]);
  });
});

test.each([
  [422, true],
  [400, true],
  [403, false],
  [409, false],
  [500, false],
])('isInvalid: %i → %s (sending the same object again cannot succeed)', (status, invalid) => {
  expect(isInvalid(apiErrorFrom(status, undefined, 'x'))).toBe(invalid);
  expect(isInvalid(Object.assign(new Error('x'), { status }))).toBe(false);
});

describe('isNamespaceTerminating', () => {
  const forbidden = (details?: unknown) => apiErrorFrom(403, { reason: 'Forbidden', details }, 'x');
  test('a 403 whose causes name NamespaceTerminating', () => {
    expect(
      isNamespaceTerminating(
        forbidden({ causes: [{ reason: 'FieldValueInvalid' }, { reason: 'NamespaceTerminating', message: 'ns' }] }),
      ),
    ).toBe(true);
  });
  test.each([
    ['RBAC refusing (no causes)', forbidden()],
    ['other causes', forbidden({ causes: [{ reason: 'FieldValueInvalid' }] })],
    ['details without causes', forbidden({ name: 'x' })],
    [
      'the cause on another status',
      apiErrorFrom(409, { details: { causes: [{ reason: 'NamespaceTerminating' }] } }, 'x'),
    ],
    ['not an API error', Object.assign(new Error('x'), { status: 403 })],
  ])('not: %s', (_case, err) => {
    expect(isNamespaceTerminating(err)).toBe(false);
  });
});

test('the other errors say what they are in their name (logs print it)', () => {
  expect(new TerminalError('bad spec').name).toBe('TerminalError');
  expect(new ResourceUnavailableError('no informer').name).toBe('ResourceUnavailableError');
  expect(new ReconcileAbortedError('deadline', 'took too long')).toMatchObject({
    name: 'ReconcileAbortedError',
    reason: 'deadline',
    message: 'took too long',
  });
});
