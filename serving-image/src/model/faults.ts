// Faults on demand (contract C2), for test beds and chaos drills only: injected errors, added latency and
// shifted scores, so that canary analysis and drift monitoring can be shown to act on a misbehaving version.
// Off unless configured; the core calls these at the two edges of an inference: before it, and on its outputs.
import { InferenceError } from './errors.js';
import type { Tensor } from './tensor.js';

export interface FaultSettings {
  /** Share (0..1) of inference requests that fail with 500 "injected fault". */
  errorRate: number;
  /** Added to every inference request. */
  latencyMillis: number;
  /** Added to the positive (last) class's probability of every prediction, clamped to [0, 1]. */
  scoreShift: number;
}

export class FaultInjector {
  constructor(
    readonly settings: FaultSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Waits the added latency, then fails the request if the dice say so. */
  async beforeInference(): Promise<void> {
    const { latencyMillis, errorRate } = this.settings;
    if (latencyMillis > 0) await new Promise((resolve) => setTimeout(resolve, latencyMillis));
    if (errorRate > 0 && this.random() < errorRate) throw new InferenceError('internal', 'injected fault');
  }

  /**
   * Shifts the last class's probability of each row of `prediction` (a [batch, classes] tensor), in place.
   * The other classes share what is left in their old proportions (for two classes: the other gets 1 - p).
   */
  shiftScores(prediction: Tensor): void {
    const shift = this.settings.scoreShift;
    if (shift === 0 || prediction.shape.length !== 2) return;
    const data = prediction.data as Float32Array;
    const classes = prediction.shape[1]!;
    for (let row = 0; row < data.length; row += classes) {
      const last = row + classes - 1;
      const before = data[last]!;
      const after = Math.min(1, Math.max(0, before + shift));
      const restBefore = 1 - before;
      for (let c = row; c < last; c++) {
        if (classes === 2) data[c] = 1 - after;
        else data[c] = restBefore > 0 ? (data[c]! * (1 - after)) / restBefore : (1 - after) / (classes - 1);
      }
      data[last] = after;
    }
  }
}
