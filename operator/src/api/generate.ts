// Writes the CRDs from the TypeBox schemas (`make crds`) to crds/ (for kubectl and Argo CD) and to the Helm
// chart's crds/. crd.test.ts fails the tests when the committed files differ from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_DIRS, crdFileName, renderCrd } from './crd.js';
import { definitions } from './index.js';

/** Writes every CRD under `root`; the files written. */
export function writeCrds(root: string): string[] {
  return CRD_DIRS.flatMap((dir) => {
    mkdirSync(join(root, dir), { recursive: true });
    return definitions.map((def) => {
      const file = join(root, dir, crdFileName(def));
      writeFileSync(file, renderCrd(def));
      return file;
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) for (const file of writeCrds('.')) console.log(`wrote ${file}`);
