// Builds a CustomResourceDefinition from one resource's TypeBox schemas.
import type { TSchema, CelRule } from './schema.js';
import { GROUP, VERSION } from './common.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  /** Rules on the whole object, for what needs metadata.name (the only metadata CEL sees, with generateName). */
  rootRules?: CelRule[];
  /** Rules on the whole spec, such as immutable fields (transition rules compare with oldSelf). */
  specRules: CelRule[];
  status: TSchema;
  printerColumns: PrinterColumn[];
}

export const CATEGORY = 'modelops';

export function buildCrd(def: CrdDefinition): Record<string, unknown> {
  const singular = def.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              description: def.description,
              type: 'object',
              ...(def.rootRules?.length ? { 'x-kubernetes-validations': def.rootRules } : {}),
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object: modelops.dev/v1alpha1.' },
                kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
                metadata: { type: 'object' },
                spec: withRules(plain(def.spec), def.specRules),
                status: plain(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

/** TypeBox schemas carry symbol-keyed bookkeeping; the CRD wants plain JSON. */
function plain(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}

function withRules(schema: unknown, rules: CelRule[]): unknown {
  const object = schema as Record<string, unknown>;
  const existing = (object['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  const all = [...existing, ...rules];
  return all.length ? { ...object, 'x-kubernetes-validations': all } : object;
}
