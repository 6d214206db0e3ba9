// The CRDs users apply are the committed YAML (crds/ and the chart's copy); the API server's validation of
// them is tested in test/integration/crd-validation.test.ts. Here: that YAML is exactly what the schemas
// in this folder generate, so the two cannot drift apart.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRD_DIRS, crdFileName, renderCrd } from './crd.js';
import { writeCrds } from './generate.js';
import { definitions } from './index.js';

test.each(CRD_DIRS.flatMap((dir) => definitions.map((def) => [join(dir, crdFileName(def)), def] as const)))(
  '%s is what the schemas generate (after a change to operator/src/api: make crds)',
  (file, def) => {
    expect(readFileSync(file, 'utf8')).toBe(renderCrd(def));
  },
);

test('make crds writes each CRD to crds/ and to the chart, as rendered', () => {
  const root = mkdtempSync(join(tmpdir(), 'crds-'));
  try {
    const written = writeCrds(root);
    expect(written).toHaveLength(CRD_DIRS.length * definitions.length);
    for (const dir of CRD_DIRS)
      expect(readdirSync(join(root, dir)).sort()).toEqual(definitions.map(crdFileName).sort());
    for (const def of definitions)
      for (const dir of CRD_DIRS) expect(readFileSync(join(root, dir, crdFileName(def)), 'utf8')).toBe(renderCrd(def));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
