import { GROUP, VERSION, definitions, modelVersionsByModel, MODEL_INDEX, resources } from './index.js';
import { buildCrd } from './crd.js';

test.each(definitions)('the $kind ref names what its CRD serves', (def) => {
  const crd = buildCrd(def) as {
    spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string }[] };
  };
  const ref = resources[def.kind as keyof typeof resources];
  expect(ref).toEqual({
    group: crd.spec.group,
    version: crd.spec.versions[0]!.name,
    plural: crd.spec.names.plural,
    kind: crd.spec.names.kind,
    namespaced: crd.spec.scope === 'Namespaced',
  });
  expect([ref.group, ref.version]).toEqual([GROUP, VERSION]);
});

test('ModelVersions are indexed by their model', () => {
  expect(modelVersionsByModel).toMatchObject({ resource: resources.ModelVersion, name: MODEL_INDEX });
  const mv = { metadata: { name: 'fraud-v2', namespace: 'ml' }, spec: { model: 'fraud', version: 'v2' } };
  expect(modelVersionsByModel.keys(mv as never)).toEqual(['fraud']);
});
