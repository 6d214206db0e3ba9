// The reference distribution the training image writes beside the model (training-image/reference.schema.json).
// Serving uses it for the drift metrics' histogram buckets and class names, so it is checked against both the
// schema and the loaded model before it is used.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { TensorSpec } from './model/tensor.js';

const Histogram = Type.Object({
  binEdges: Type.Array(Type.Number(), { minItems: 2 }),
  counts: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 }),
});

const NumericFeature = Type.Object(
  {
    name: Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }),
    binEdges: Type.Array(Type.Number(), { minItems: 2 }),
    counts: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 }),
    mean: Type.Number(),
    std: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** Mirrors training-image/reference.schema.json; reference.test.ts keeps the two in step. */
export const ReferenceSchema = Type.Object(
  {
    apiVersion: Type.Literal('modelops.dev/v1alpha1'),
    kind: Type.Literal('ReferenceDistribution'),
    sampleCount: Type.Integer({ minimum: 1 }),
    input: Type.Object(
      { name: Type.String({ minLength: 1 }), datatype: Type.Literal('FP32') },
      { additionalProperties: false },
    ),
    features: Type.Array(NumericFeature, { minItems: 1 }),
    prediction: Type.Object(
      {
        output: Type.String({ minLength: 1 }),
        classes: Type.Array(Type.String(), { minItems: 2 }),
        classCounts: Type.Array(Type.Integer({ minimum: 0 })),
        score: Histogram,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Reference = Static<typeof ReferenceSchema>;

export class ReferenceError extends Error {
  constructor(uri: string, problems: string[]) {
    super(`invalid reference ${uri}: ${problems.join('; ')}`);
    this.name = 'ReferenceError';
  }
}

/** Parses and checks a reference file against the schema and the model's signature. */
export function parseReference(
  bytes: Uint8Array,
  uri: string,
  modelInputs: TensorSpec[],
  modelOutputs: TensorSpec[],
): Reference {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ReferenceError(uri, [`not JSON: ${(error as Error).message}`]);
  }
  const schemaProblems = [...Value.Errors(ReferenceSchema, json)]
    .slice(0, 5)
    .map((e) => `${e.path || '/'}: ${e.message}`);
  if (schemaProblems.length > 0) throw new ReferenceError(uri, schemaProblems);
  const reference = json as Reference;
  const problems = [...histogramProblems(reference), ...signatureProblems(reference, modelInputs, modelOutputs)];
  if (problems.length > 0) throw new ReferenceError(uri, problems);
  return reference;
}

function histogramProblems(reference: Reference): string[] {
  const problems: string[] = [];
  const check = (where: string, { binEdges, counts }: { binEdges: number[]; counts: number[] }): void => {
    if (counts.length !== binEdges.length - 1) {
      problems.push(`${where} has ${binEdges.length} binEdges but ${counts.length} counts (want binEdges - 1)`);
    }
    if (binEdges.some((edge, i) => i > 0 && edge <= binEdges[i - 1]!))
      problems.push(`${where}.binEdges must be strictly ascending`);
  };
  reference.features.forEach((feature, i) => check(`/features/${i} (${feature.name})`, feature));
  check('/prediction/score', reference.prediction.score);
  const names = new Set<string>();
  for (const { name } of reference.features) {
    if (names.has(name)) problems.push(`feature "${name}" appears twice`);
    names.add(name);
  }
  if (reference.prediction.classCounts.length !== reference.prediction.classes.length) {
    problems.push('/prediction/classCounts must have one count per class');
  }
  return problems;
}

function signatureProblems(reference: Reference, inputs: TensorSpec[], outputs: TensorSpec[]): string[] {
  const problems: string[] = [];
  const input = inputs.find((spec) => spec.name === reference.input.name);
  const width = reference.features.length;
  if (!input)
    problems.push(`input "${reference.input.name}" is not a model input (${inputs.map((s) => s.name).join(', ')})`);
  else if (input.datatype !== 'FP32' || input.shape.length !== 2 || ![width, -1].includes(input.shape[1]!)) {
    problems.push(
      `model input "${input.name}" is ${input.datatype} [${input.shape}], not FP32 [batch, ${width}] as the reference's features say`,
    );
  }
  const output = outputs.find((spec) => spec.name === reference.prediction.output);
  const classes = reference.prediction.classes.length;
  if (!output)
    problems.push(
      `output "${reference.prediction.output}" is not a model output (${outputs.map((s) => s.name).join(', ')})`,
    );
  else if (output.datatype !== 'FP32' || output.shape.length !== 2 || ![classes, -1].includes(output.shape[1]!)) {
    problems.push(
      `model output "${output.name}" is ${output.datatype} [${output.shape}], not FP32 [batch, ${classes}] as the reference's classes say`,
    );
  }
  return problems;
}

/** The interior bin edges: exactly the `le` bounds of the matching Prometheus histogram (+Inf is implied). */
export function interiorEdges(binEdges: readonly number[]): number[] {
  return binEdges.slice(1, -1);
}
