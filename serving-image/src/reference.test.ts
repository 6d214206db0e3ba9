import { readFileSync } from 'node:fs';
import type { TensorSpec } from './model/tensor.js';
import { interiorEdges, parseReference, ReferenceSchema } from './reference.js';

const FIXTURE = readFileSync('serving-image/test/fixtures/reference.json');
const INPUTS: TensorSpec[] = [{ name: 'features', datatype: 'FP32', shape: [-1, 30] }];
const OUTPUTS: TensorSpec[] = [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }];

type Json = Record<string, unknown>;
/** The model's signature as the loader reads it. */
interface Model {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
const fixtureModel = (): Model => structuredClone({ inputs: INPUTS, outputs: OUTPUTS });
const parse = (reference: unknown, { inputs, outputs }: Model = fixtureModel()) =>
  parseReference(Buffer.from(JSON.stringify(reference)), 'ref.json', inputs, outputs);
const fixture = (): Json => JSON.parse(FIXTURE.toString()) as Json;

test('the fixture is a valid reference for the fixture model', () => {
  const reference = parseReference(FIXTURE, 'ref.json', INPUTS, OUTPUTS);
  expect(reference.features).toHaveLength(30);
  expect(reference.prediction.classes).toEqual(['legit', 'fraud']);
  expect(interiorEdges([0, 1, 2, 3])).toEqual([1, 2]);
});

test('a model whose feature and class dimensions are dynamic takes any reference width', () => {
  const model = fixtureModel();
  model.inputs[0]!.shape = [-1, -1];
  model.outputs[0]!.shape = [-1, -1];
  expect(parse(fixture(), model).features).toHaveLength(30);
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

/** Sets the value at a JSON pointer's path (without the leading '/') in the reference. */
const at =
  (path: string, value: unknown) =>
  (r: Json): void => {
    const keys = path.split('/');
    const parent = keys.slice(0, -1).reduce((node, key) => node[key] as Json, r);
    parent[keys.at(-1)!] = value;
  };

// The schema's constraints, each broken alone: the problem names the path at fault.
test.each([
  ['apiVersion', 'v1'],
  ['sampleCount', 0],
  ['sampleCount', 1.5],
  ['input/name', ''],
  ['input/datatype', 'FP64'],
  ['features', []],
  ['features/0/name', ''],
  ['features/0/binEdges', [0]],
  ['features/0/counts', []],
  ['features/0/counts/0', -1],
  ['features/0/counts/0', 1.5],
  ['features/0/mean', 'zero'],
  ['features/0/std', -1],
  ['prediction/output', ''],
  ['prediction/classes', ['only']],
  ['prediction/classCounts/0', -1],
  ['prediction/score/binEdges', [0]],
  ['prediction/score/counts', []],
  ['prediction/score/counts/0', -1],
])('rejects a reference whose /%s is %j', (path, value) => {
  const reference = fixture();
  at(path, value)(reference);
  expect(() => parse(reference)).toThrow(new RegExp(`^invalid reference ref.json: /${path}: `));
});

/** Each case breaks the fixture reference, or the model it is checked against. */
const broken: [string, (r: Json, model: Model) => void, RegExp][] = [
  ['wrong kind', (r) => (r.kind = 'Other'), /\/kind/],
  ['missing features', (r) => delete r.features, /features/],
  ['unknown field', (r) => (r.extra = 1), /extra|additional/i],
  [
    'counts do not match edges',
    (r) => ((r.features as Json[])[0]!.counts = [1, 2]),
    /v1\) has 11 binEdges but 2 counts/,
  ],
  [
    'score counts that do not match its edges',
    at('prediction/score/counts', [1, 2]),
    /^invalid reference ref.json: \/prediction\/score has 11 binEdges but 2 counts \(want binEdges - 1\)$/,
  ],
  [
    'edges not ascending',
    (r) => ((r.features as Json[])[1]!.binEdges = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10]),
    /strictly ascending/,
  ],
  [
    'a repeated bin edge',
    (r) => ((r.features as Json[])[1]!.binEdges = [0, 1, 1, 3, 4, 5, 6, 7, 8, 9, 10]),
    /^invalid reference ref.json: \/features\/1 \(v2\)\.binEdges must be strictly ascending$/,
  ],
  [
    'nothing in it: the first five problems only',
    (r) => Object.keys(r).forEach((key) => delete r[key]),
    /^invalid reference ref.json: \/apiVersion: Expected required property; \/kind: [^;]+; \/sampleCount: [^;]+; \/input: [^;]+; \/features: Expected required property$/,
  ],
  ['duplicate feature', (r) => ((r.features as Json[])[1]!.name = 'v1'), /"v1" appears twice/],
  [
    'input not in the model (of two inputs)',
    (r, m) => {
      (r.input as Json).name = 'x';
      m.inputs.push({ name: 'mask', datatype: 'BOOL', shape: [-1, 30] });
    },
    /input "x" is not a model input \(features, mask\)/,
  ],
  ['feature count differs from the model', (r) => (r.features as Json[]).pop(), /not FP32 \[batch, 29\]/],
  [
    'a model input that is not FP32',
    (_r, m) => (m.inputs[0]!.datatype = 'FP64'),
    /model input "features" is FP64 \[-1,30\], not FP32 \[batch, 30\]/,
  ],
  [
    'a model input of rank 3',
    (_r, m) => (m.inputs[0]!.shape = [-1, 30, 1]),
    /model input "features" is FP32 \[-1,30,1\], not FP32/,
  ],
  [
    'output not in the model (of two outputs)',
    (r, m) => {
      (r.prediction as Json).output = 'y';
      m.outputs.push({ name: 'label', datatype: 'INT64', shape: [-1] });
    },
    /invalid reference ref.json: output "y" is not a model output \(probabilities, label\)$/,
  ],
  [
    'class count differs from the model',
    (r) => Object.assign(r.prediction as Json, { classes: ['a', 'b', 'c'], classCounts: [1, 1, 1] }),
    /invalid reference ref.json: model output "probabilities" is FP32 \[-1,2\], not FP32 \[batch, 3\] as the reference's classes say$/,
  ],
  [
    'a model output that is not FP32',
    (_r, m) => (m.outputs[0]!.datatype = 'INT64'),
    /model output "probabilities" is INT64 \[-1,2\]/,
  ],
  [
    'a model output of rank 3',
    (_r, m) => (m.outputs[0]!.shape = [-1, 2, 1]),
    /model output "probabilities" is FP32 \[-1,2,1\], not FP32/,
  ],
  ['class counts per class', (r) => ((r.prediction as Json).classCounts = [1]), /one count per class/],
  ['bad feature name', (r) => ((r.features as Json[])[2]!.name = '1bad'), /features\/2\/name/],
];

test.each(broken)('rejects a reference with %s', (_name, mutate, message) => {
  const reference = fixture();
  const model = fixtureModel();
  mutate(reference, model);
  expect(() => parse(reference, model)).toThrow(message);
});

test('rejects bytes that are not JSON, and JSON that is not an object (a problem at the root, /)', () => {
  expect(() => parseReference(Buffer.from('{'), 'ref.json', INPUTS, OUTPUTS)).toThrow(
    /invalid reference ref.json: not JSON/,
  );
  expect(() => parse([])).toThrow(/^invalid reference ref.json: \/: Expected object$/);
  try {
    parse([]);
  } catch (error) {
    expect(error).toHaveProperty('name', 'ReferenceError'); // as logs show it
  }
  expect.assertions(3);
});
