import { binCounts } from '../../prometheus/index.js';
import { binsFromEdges, distributionsFromReferenceFile, sameBins } from './histograms.js';

describe('the reference file', () => {
  test('k + 1 edges become the k - 1 interior upper edges and +Inf; counts stay', () => {
    expect(binsFromEdges([-3, -1, 0, 1, 3], [1, 2, 3, 4])).toEqual({
      upperBounds: [-1, 0, 1, Infinity],
      counts: [1, 2, 3, 4],
    });
    expect(() => binsFromEdges([0, 1], [1, 2])).toThrow(/2 bin edges for 2 counts/);
  });

  test('reads features and the prediction score, names what is wrong', () => {
    const file = {
      sampleCount: 10,
      features: [{ name: 'amount', binEdges: [0, 5, 10], counts: [4, 6] }],
      prediction: { score: { binEdges: [0, 0.5, 1], counts: [9, 1] } },
    };
    const d = distributionsFromReferenceFile(file);
    expect(d.sampleCount).toBe(10);
    expect(d.features.get('amount')).toEqual({ upperBounds: [5, Infinity], counts: [4, 6] });
    expect(d.prediction).toEqual({ upperBounds: [0.5, Infinity], counts: [9, 1] });
    expect(() =>
      distributionsFromReferenceFile({ ...file, prediction: { score: { binEdges: [0, 1], counts: [1, 2] } } }),
    ).toThrow('prediction.score: 2 bin edges for 2 counts');
    expect(() =>
      distributionsFromReferenceFile({ ...file, features: [{ name: 'amount', binEdges: [0, 1], counts: [1, 1] }] }),
    ).toThrow(/amount: 2 bin edges for 2 counts/);
  });

  test.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'reference'],
    ['no features', { prediction: { score: { binEdges: [0, 1], counts: [1] } } }],
    ['features not a list', { features: 'amount', prediction: { score: { binEdges: [0, 1], counts: [1] } } }],
    ['no prediction score', { features: [] }],
    ['an empty prediction', { features: [], prediction: {} }],
  ])('%s is not a reference file', (_case, file) => {
    expect(() => distributionsFromReferenceFile(file)).toThrow(
      'not a reference distribution: want features[] and prediction.score',
    );
  });

  test.each([
    ['no name', { binEdges: [0, 1], counts: [1] }],
    ['a number for a name', { name: 3, binEdges: [0, 1], counts: [1] }],
    ['no edges', { name: 'amount', counts: [1] }],
    ['counts not a list', { name: 'amount', binEdges: [0, 1], counts: 1 }],
    ['null', null],
  ])('a feature with %s is refused', (_case, feature) => {
    const file = { features: [feature], prediction: { score: { binEdges: [0, 1], counts: [1] } } };
    expect(() => distributionsFromReferenceFile(file)).toThrow('a feature needs name, binEdges and counts');
  });

  test("a histogram's error keeps the one it came from as its cause", () => {
    const file = {
      features: [{ name: 'amount', binEdges: [0, 1], counts: [1, 1] }],
      prediction: { score: { binEdges: [0, 1], counts: [1] } },
    };
    expect(() => distributionsFromReferenceFile(file)).toThrow(
      expect.objectContaining({
        cause: expect.objectContaining({ message: '2 bin edges for 2 counts (want one more edge than counts)' }),
      }),
    );
  });

  test('the reference file and the live buckets line up through their edges', () => {
    const reference = binsFromEdges([-2.5, -0.1, 0.30000000000000004, 2.5], [1, 1, 1]);
    const bucket = (le: string, value: number) => ({ labels: { le }, value });
    const live = binCounts([bucket('-0.1', 1), bucket('0.3', 2), bucket('+Inf', 3)]);
    expect(sameBins(reference, live)).toBe(true);
    expect(sameBins(reference, binCounts([bucket('0.3', 2), bucket('+Inf', 3)]))).toBe(false);
    expect(sameBins(reference, { ...live, upperBounds: [-0.1, 0.31, Infinity] })).toBe(false);
  });

  // Relative to the edge: a large edge printed to fewer digits is still the same edge, a nearby one is not.
  test.each([
    [1234.5, 1234.5000001, true],
    [1e-12, 1.0000000001e-12, true],
    [0.1 + 0.2, 0.3, true],
    [1234.5, 1234.51, false],
    [1, 1.001, false],
  ])('edge %d against %d: the same bins %s', (a, b, same) => {
    const histogram = (edge: number) => ({ upperBounds: [edge, Infinity], counts: [1, 1] });
    expect(sameBins(histogram(a), histogram(b))).toBe(same);
  });
});
