// Every string, list and map a TrainingJob accepts is bounded: nothing can carry a megabyte through
// a field, and the CEL rules over them stay within the API server's cost budget.
import { buildCrd } from './crd.js';
import { trainingJobDefinition } from './trainingjob.js';

type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
};

/** The paths of unbounded strings, lists and maps under `schema`. */
function unbounded(schema: Schema, path: string, skip: Set<string>): string[] {
  if (skip.has(path)) return [];
  const found: string[] = [];
  const bounded = (key: string) => schema[key] !== undefined;
  if (schema['x-kubernetes-int-or-string'] && !bounded('maxLength')) found.push(path);
  if (schema.type === 'string' && !bounded('maxLength') && !bounded('enum') && schema.format !== 'date-time')
    found.push(path);
  if (schema.type === 'array') {
    if (!bounded('maxItems')) found.push(path);
    found.push(...unbounded(schema.items!, `${path}[]`, skip));
  }
  if (typeof schema.additionalProperties === 'object') {
    if (!bounded('maxProperties')) found.push(path);
    found.push(...unbounded(schema.additionalProperties, `${path}{}`, skip));
  }
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    found.push(...unbounded(child, `${path}.${name}`, skip));
  return found;
}

test('a TrainingJob bounds every string, list and map of its spec and status', () => {
  const crd = buildCrd(trainingJobDefinition) as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
  // register.serving is the ModelVersion's serving spec, bounded where that schema lives.
  const skip = new Set(['.spec.register.serving']);
  expect(unbounded(root.properties!.spec!, '.spec', skip)).toEqual([]);
  expect(unbounded(root.properties!.status!, '.status', skip)).toEqual([]);
});

test('the check finds what is unbounded', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      free: { type: 'string' },
      list: { type: 'array', items: { type: 'string', maxLength: 3 } },
      map: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 2 },
      when: { type: 'string', format: 'date-time' },
      kind: { type: 'string', enum: ['a'] },
    },
  };
  expect(unbounded(schema, '', new Set())).toEqual(['.free', '.list', '.map{}']);
});
