import { modelVersion } from './fixtures.test-helpers.js';
import { isPaused, pendingActions } from './actions.js';

describe('pendingActions: an annotation acts once per value', () => {
  const withActions = (annotations: Record<string, string>, handledActions?: Record<string, string>) =>
    modelVersion('fraud-v2', {}, handledActions ? { handledActions } : undefined, { annotations });

  test.each([
    ['no annotations', withActions({}), {}],
    ['a new promote', withActions({ 'modelops.dev/promote': '1' }), { promote: '1' }],
    ['a promote already handled', withActions({ 'modelops.dev/promote': '1' }, { promote: '1' }), {}],
    ['a promote with a new value', withActions({ 'modelops.dev/promote': '2' }, { promote: '1' }), { promote: '2' }],
    [
      'each action on its own; other annotations ignored',
      withActions(
        { 'modelops.dev/abort': 'now', 'modelops.dev/retry': 'a', 'modelops.dev/other': 'x' },
        { retry: 'a', promote: '1' },
      ),
      { abort: 'now' },
    ],
  ])('%s', (_case, mv, pending) => {
    expect(pendingActions(mv)).toStrictEqual(pending);
  });

  test('paused only when spec.serving.rollout.paused is true', () => {
    expect(isPaused(modelVersion('fraud-v2', { serving: { rollout: { paused: true } } }))).toBe(true);
    expect(isPaused(modelVersion('fraud-v2', { serving: { rollout: { paused: false } } }))).toBe(false);
    expect(isPaused(modelVersion('fraud-v2'))).toBe(false);
  });
});
