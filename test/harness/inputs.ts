// Model inputs drawn from a training reference (the ReferenceDistribution the training image writes and the
// serving image loads): each feature independently from its binned distribution, uniform within a bin, and
// chosen features shifted by N of the reference's standard deviations, so that drift can be made on purpose.
import { readFileSync } from 'node:fs';

export interface Reference {
  input: { name: string; datatype: string };
  features: { name: string; binEdges: number[]; counts: number[]; std: number }[];
}

export interface InputOptions {
  /** Feature name → shift in standard deviations of that feature (e.g. { v1: 3, v2: 3 }). */
  shift?: Record<string, number>;
  /** Seed of the generator: the same seed gives the same rows. */
  seed?: number;
}

export type RowSource = () => number[];

export function loadReference(path: string): Reference {
  return JSON.parse(readFileSync(path, 'utf8')) as Reference;
}

export function referenceRows(reference: Reference, options: InputOptions = {}): RowSource {
  const random = mulberry32(options.seed ?? 1);
  const unknown = Object.keys(options.shift ?? {}).filter((n) => !reference.features.some((f) => f.name === n));
  if (unknown.length) throw new Error(`no such feature in the reference: ${unknown.join(', ')}`);
  const samplers = reference.features.map((feature) => {
    const total = feature.counts.reduce((a, b) => a + b, 0);
    const cumulative = feature.counts.map(
      (
        (sum) => (c: number) =>
          (sum += c / total)
      )(0),
    );
    const offset = (options.shift?.[feature.name] ?? 0) * feature.std;
    return () => {
      const u = random();
      let bin = cumulative.findIndex((c) => u < c);
      if (bin < 0) bin = feature.counts.length - 1;
      const low = feature.binEdges[bin]!;
      const high = feature.binEdges[bin + 1]!;
      return low + random() * (high - low) + offset;
    };
  });
  return () => samplers.map((sample) => sample());
}

/** A small, fast, seedable PRNG (public domain), enough for test inputs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rows of a CSV data set with a header row (as the training image's `python3 -m modelops_train.data` writes
 * it), in `features` order, drawn at random with replacement: traffic from the same world a model is (or is
 * not) trained on, rather than a reference's bins.
 */
export function csvRows(path: string, features: string[], options: { seed?: number } = {}): RowSource {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const index = features.map((name) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`${path} has no column ${name}`);
    return i;
  });
  const rows = lines.map((line) => {
    const cells = line.split(',');
    return index.map((i) => Number(cells[i]));
  });
  if (rows.length === 0) throw new Error(`${path} has no rows`);
  const random = mulberry32(options.seed ?? 1);
  return () => rows[Math.floor(random() * rows.length)]!;
}
