import { readFileSync } from 'node:fs';
import type { TensorSpec } from './model/tensor.js';
import { interiorEdges, parseReference, ReferenceSchema } from './reference.js';

const FIXTURE = readFileSync('serving-image/test/fixtures/reference.json');
const INPUTS: TensorSpec[] = [{ name: 'features', datatype: 'FP32', shape: [-1, 30] }];
const OUTPUTS: TensorSpec[] = [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }];

type Json = Record<string, unknown>;
const parse = (reference: unknown) =>
  parseReference(Buffer.from(JSON.stringify(reference)), 'ref.json', INPUTS, OUTPUTS);
const fixture = (): Json => JSON.parse(FIXTURE.toString()) as Json;

test('the fixture is a valid reference for the fixture model', () => {
  const reference = parseReference(FIXTURE, 'ref.json', INPUTS, OUTPUTS);
  expect(reference.features).toHaveLength(30);
  expect(reference.prediction.classes).toEqual(['legit', 'fraud']);
  expect(interiorEdges([0, 1, 2, 3])).toEqual([1, 2]);
});

// The TypeBox schema mirrors training-image/reference.schema.json, which serving must not change: same
// properties and required fields at every level, same closedness.
test('mirrors training-image/reference.schema.json', () => {
  const file = JSON.parse(readFileSync('training-image/reference.schema.json', 'utf8')) as Json;
  const resolve = (node: Json): Json =>
    typeof node.$ref === 'string' ? ((file.$defs as Json)[node.$ref.replace('#/$defs/', '')] as Json) : node;
  const shape = (node: Json): unknown => {
    const resolved = resolve(node);
    if (resolved.type === 'array') return { array: shape(resolved.items as Json) };
    if (resolved.type !== 'object') return resolved.type ?? (resolved.const !== undefined ? 'const' : undefined);
    const properties = resolved.properties as Record<string, Json>;
    return {
      required: [...((resolved.required as string[]) ?? [])].sort(),
      closed: resolved.additionalProperties === false,
      properties: Object.fromEntries(
        Object.entries(properties)
          .sort()
          .map(([k, v]) => [k, shape(v)]),
      ),
    };
  };
  const normalise = (node: Json): Json => {
    const copy = { ...node };
    if ('const' in copy) delete copy.type; // TypeBox writes Literal as { const, type }
    return copy;
  };
  const deepNormalise = (node: unknown): unknown =>
    node && typeof node === 'object' && !Array.isArray(node)
      ? normalise(Object.fromEntries(Object.entries(node as Json).map(([k, v]) => [k, deepNormalise(v)])))
      : node;
  expect(shape(deepNormalise(ReferenceSchema) as Json)).toEqual(shape(deepNormalise(file) as Json));
});

const broken: [string, (r: Json) => void, RegExp][] = [
  ['wrong kind', (r) => (r.kind = 'Other'), /\/kind/],
  ['missing features', (r) => delete r.features, /features/],
  ['unknown field', (r) => (r.extra = 1), /extra|additional/i],
  [
    'counts do not match edges',
    (r) => ((r.features as Json[])[0]!.counts = [1, 2]),
    /v1\) has 11 binEdges but 2 counts/,
  ],
  [
    'edges not ascending',
    (r) => ((r.features as Json[])[1]!.binEdges = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10]),
    /strictly ascending/,
  ],
  ['duplicate feature', (r) => ((r.features as Json[])[1]!.name = 'v1'), /"v1" appears twice/],
  ['input not in the model', (r) => ((r.input as Json).name = 'x'), /input "x" is not a model input \(features\)/],
  ['feature count differs from the model', (r) => (r.features as Json[]).pop(), /not FP32 \[batch, 29\]/],
  ['output not in the model', (r) => ((r.prediction as Json).output = 'y'), /output "y" is not a model output/],
  ['class counts per class', (r) => ((r.prediction as Json).classCounts = [1]), /one count per class/],
  ['bad feature name', (r) => ((r.features as Json[])[2]!.name = '1bad'), /features\/2\/name/],
];

test.each(broken)('rejects a reference with %s', (_name, mutate, message) => {
  const reference = fixture();
  mutate(reference);
  expect(() => parse(reference)).toThrow(message);
});

test('rejects bytes that are not JSON', () => {
  expect(() => parseReference(Buffer.from('{'), 'ref.json', INPUTS, OUTPUTS)).toThrow(
    /invalid reference ref.json: not JSON/,
  );
});
