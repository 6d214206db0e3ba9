// Schemas shared by the three resources: conditions and references.
import { object, string, integer, enumOf, list, optional, Type, type Static } from './schema.js';

export const GROUP = 'modelops.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

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

export const conditions = () =>
  Type.Array(Condition, {
    description:
      "The latest observations of the resource's state. `Ready` is the one `kubectl wait --for=condition=Ready` uses.",
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

export const observedGeneration = () =>
  integer('The .metadata.generation the controller last acted on.', { minimum: 0 });

export const LocalObjectReference = object('A reference to an object in the same namespace.', {
  name: string('Name of the object.', { minLength: 1, maxLength: 253 }),
});

export const EnvVar = object('An environment variable for the container (a core/v1 EnvVar).', {
  name: string('Name of the variable.', { minLength: 1 }),
  value: optional(string('Literal value.')),
  valueFrom: optional(
    Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      description: 'Source of the value (secretKeyRef, configMapKeyRef, fieldRef), as in core/v1.',
    }),
  ),
});
export type EnvVar = Static<typeof EnvVar>;

export const envList = () => list(EnvVar, 'Environment variables for the container.', { maxItems: 128 });
