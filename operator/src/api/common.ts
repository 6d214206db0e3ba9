// Schemas shared by the three resources: conditions, references, names, URIs, labels, env. Every
// string, list and map here is bounded, so a resource cannot smuggle a megabyte through a field and
// CEL rules over them stay within the API server's cost budget.
import {
  object,
  string,
  integer,
  enumOf,
  list,
  optional,
  cel,
  quantity,
  stringMap,
  Type,
  type Static,
} from './schema.js';

export const GROUP = 'modelops.dev';
export const VERSION = 'v1alpha1';

/** What a Kubernetes label value may be (empty included). */
const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
/** A qualified name with an optional DNS-subdomain prefix: label and annotation keys. */
const QUALIFIED_NAME_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const MODEL_NAME_MAX = 40;
export const VERSION_MAX = 40;

/** A DNS-1035 label (Service names): lower case alphanumerics and '-', starting with a letter. */
export const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

export const Condition = object("A metav1.Condition: one aspect of the resource's state.", {
  type: string('Type of the condition, in CamelCase (Ready, Running, Succeeded, ...).', { maxLength: 316 }),
  status: enumOf(['True', 'False', 'Unknown'] as const, 'Status of the condition.'),
  observedGeneration: optional(integer('The .metadata.generation the condition was set from.', { minimum: 0 })),
  lastTransitionTime: string('When the condition last changed status.', { format: 'date-time' }),
  reason: string('A CamelCase, machine-readable reason for the last transition.', { maxLength: 1024 }),
  message: string('A human-readable message about the transition.', { maxLength: 32768 }),
});
export type Condition = Static<typeof Condition>;

export const conditions = (
  description = "The latest observations of the resource's state. `Ready` is the one `kubectl wait --for=condition=Ready` uses.",
) =>
  Type.Array(Condition, {
    description,
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

export const observedGeneration = () =>
  integer('The .metadata.generation the controller last acted on.', { minimum: 0 });

export const LocalObjectReference = object('A reference to an object in the same namespace.', {
  name: string('Name of the object.', { minLength: 1, maxLength: 253 }),
});

/** The name of a model: a DNS-1035 label of at most 40 characters (it names the model's Service and labels). */
export const modelName = (description: string) =>
  string(description, { pattern: DNS1035_LABEL, maxLength: MODEL_NAME_MAX });

/** A model version: lowercase alphanumerics, '-' and '.', at most 40 characters. */
export const modelVersion = (description: string) =>
  string(description, { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: VERSION_MAX });

/** A string that must be a valid Kubernetes label value (it becomes one). */
export const labelValue = (description: string) => string(description, { pattern: LABEL_VALUE_PATTERN, maxLength: 63 });

/** A container image reference: no whitespace, bounded. */
export const imageReference = (description: string) =>
  string(description, { minLength: 1, maxLength: 512, pattern: '^[^\\s]+$' });

/**
 * A URI with one of `schemes` (`'/'` allows an absolute path), bounded. The scheme is what the
 * consumer dispatches on, so anything else is refused at apply time.
 */
export function uri(description: string, schemes: readonly string[], options: { maxLength?: number } = {}) {
  const alternatives = schemes.map((s) => (s === '/' ? '/' : `${s}://`)).join('|');
  return string(description, {
    minLength: 1,
    maxLength: options.maxLength ?? 2048,
    pattern: `^(${alternatives})[^\\s]+$`,
  });
}

/**
 * The address of a Prometheus: http(s), a host, an optional path; no whitespace and no credentials, since the URL
 * heads the messages of failed queries, which reach status conditions and Events.
 */
export const prometheusUrl = () =>
  string("Prometheus that scrapes the serving pods; defaults to the operator's --prometheus-url.", {
    maxLength: 2048,
    ...cel({
      rule: "self.matches('^https?://[^\\\\s/@]+(/[^\\\\s]*)?$')",
      message: 'prometheusUrl must be an http(s):// URL without credentials',
    }),
  });

/** Kubernetes labels: qualified-name keys, label-value values. */
export const labelMap = (description: string) =>
  stringMap(description, {
    maxProperties: 64,
    maxValueLength: 63,
    ...cel(
      {
        rule: `self.all(k, k.matches('${QUALIFIED_NAME_PATTERN}'))`,
        message: 'label keys are [prefix/]name: name at most 63 characters of [A-Za-z0-9_.-], prefix a DNS subdomain',
      },
      {
        rule: `self.all(k, self[k].matches('${LABEL_VALUE_PATTERN}'))`,
        message: 'label values are at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric',
      },
    ),
  });

/** Kubernetes annotations: qualified-name keys, values up to 4 KiB each. */
export const annotationMap = (description: string) =>
  stringMap(description, {
    maxProperties: 64,
    maxValueLength: 4096,
    ...cel({
      rule: `self.all(k, k.matches('${QUALIFIED_NAME_PATTERN}'))`,
      message:
        'annotation keys are [prefix/]name: name at most 63 characters of [A-Za-z0-9_.-], prefix a DNS subdomain',
    }),
  });

const keySelector = (what: string) =>
  object(`A key of a ${what} in the same namespace.`, {
    name: string(`Name of the ${what}.`, { minLength: 1, maxLength: 253 }),
    key: string('The key.', { minLength: 1, maxLength: 253 }),
    optional: optional(Type.Boolean({ description: `Whether the ${what} or its key may be missing.` })),
  });

export const EnvVar = object(
  'An environment variable for the container (a core/v1 EnvVar).',
  {
    name: string('Name of the variable: printable ASCII without "=".', {
      minLength: 1,
      maxLength: 256,
      pattern: '^[ -<>-~]+$',
    }),
    value: optional(string('Literal value.', { maxLength: 32768 })),
    valueFrom: optional(
      object(
        'Where the value comes from (exactly one source), as in core/v1.',
        {
          secretKeyRef: optional(keySelector('Secret')),
          configMapKeyRef: optional(keySelector('ConfigMap')),
          fieldRef: optional(
            object("A field of the pod, e.g. metadata.name or metadata.annotations['x'].", {
              apiVersion: optional(string('Version of the schema the path is written in.', { maxLength: 64 })),
              fieldPath: string('Path of the field.', { minLength: 1, maxLength: 512 }),
            }),
          ),
          resourceFieldRef: optional(
            object('A resource limit or request of a container, e.g. limits.memory.', {
              containerName: optional(string('The container; this one when omitted.', { maxLength: 63 })),
              resource: string('The resource.', { minLength: 1, maxLength: 128 }),
              divisor: optional(quantity('Output unit, e.g. 1Mi.')),
            }),
          ),
        },
        cel({
          rule: '[has(self.secretKeyRef), has(self.configMapKeyRef), has(self.fieldRef), has(self.resourceFieldRef)].filter(x, x).size() == 1',
          message: 'valueFrom needs exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef',
        }),
      ),
    ),
  },
  cel({ rule: '!(has(self.value) && has(self.valueFrom))', message: 'an env var has a value or valueFrom, not both' }),
);
export type EnvVar = Static<typeof EnvVar>;

export const envList = () =>
  list(EnvVar, 'Environment variables for the container.', {
    maxItems: 128,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  });
