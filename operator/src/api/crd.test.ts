// The CRDs users apply are the committed YAML (crds/ and the chart's copy); the API server's validation of
// them is tested in test/integration/crd-validation.test.ts. Here: that YAML is exactly what the schemas
// in this folder generate, so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIRS, crdFileName, renderCrd } from './crd.js';
import { definitions } from './index.js';

test.each(CRD_DIRS.flatMap((dir) => definitions.map((def) => [join(dir, crdFileName(def)), def] as const)))(
  '%s is what the schemas generate (after a change to operator/src/api: make crds)',
  (file, def) => {
    expect(readFileSync(file, 'utf8')).toBe(renderCrd(def));
  },
);
