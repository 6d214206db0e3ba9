// Writes the CRDs from the TypeBox schemas (`make crds`) to crds/ (for kubectl and Argo CD) and to the Helm
// chart's crds/. crd.test.ts fails the tests when the committed files differ from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIRS, crdFileName, renderCrd } from './crd.js';
import { definitions } from './index.js';

for (const dir of CRD_DIRS) {
  mkdirSync(dir, { recursive: true });
  for (const def of definitions) {
    const file = join(dir, crdFileName(def));
    writeFileSync(file, renderCrd(def));
    console.log(`wrote ${file}`);
  }
}
