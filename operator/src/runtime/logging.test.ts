import { createLogger, reconcileLogger } from './logging.js';

describe('createLogger', () => {
  const saved = process.env.LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  });

  test('named modelops-operator (in `logger`), at info unless LOG_LEVEL or the caller says otherwise', () => {
    delete process.env.LOG_LEVEL;
    expect(createLogger().bindings()).toEqual({ logger: 'modelops-operator' });
    expect(createLogger().level).toBe('info');
    process.env.LOG_LEVEL = 'warn';
    expect(createLogger().level).toBe('warn');
    expect(createLogger({ level: 'debug', name: 'bench' })).toMatchObject({ level: 'debug' });
    expect(createLogger({ name: 'bench' }).bindings()).toEqual({ logger: 'bench' });
  });
});

test("reconcileLogger: the controller's fields, a fresh reconcileID, and the key", () => {
  const controllerLog = createLogger({ level: 'silent' }).child({ controller: 'tj' });
  const first = reconcileLogger(controllerLog, { namespace: 'ml', name: 'a' }).bindings();
  const second = reconcileLogger(controllerLog, { name: 'cluster-wide' }).bindings();
  expect(first).toEqual({
    logger: 'modelops-operator',
    controller: 'tj',
    reconcileID: expect.stringMatching(/^[0-9a-f-]{36}$/),
    namespace: 'ml',
    name: 'a',
  });
  expect(second).toMatchObject({ name: 'cluster-wide' });
  expect(second).not.toHaveProperty('namespace');
  expect(second.reconcileID).not.toBe(first.reconcileID);
});
