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
    expect(() => distributionsFromReferenceFile({ features: [] })).toThrow(/want features\[\] and prediction.score/);
    expect(() =>
      distributionsFromReferenceFile({ ...file, features: [{ name: 'amount', binEdges: [0, 1], counts: [1, 1] }] }),
    ).toThrow(/amount: 2 bin edges for 2 counts/);
  });

  test('the reference file and the live buckets line up through their edges', () => {
    const reference = binsFromEdges([-2.5, -0.1, 0.30000000000000004, 2.5], [1, 1, 1]);
    const bucket = (le: string, value: number) => ({ labels: { le }, value });
    const live = binCounts([bucket('-0.1', 1), bucket('0.3', 2), bucket('+Inf', 3)]);
    expect(sameBins(reference, live)).toBe(true);
    expect(sameBins(reference, binCounts([bucket('0.3', 2), bucket('+Inf', 3)]))).toBe(false);
    expect(sameBins(reference, { ...live, upperBounds: [-0.1, 0.31, Infinity] })).toBe(false);
  });
});
