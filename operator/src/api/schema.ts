// Kubernetes-flavoured helpers over TypeBox. The TypeBox schemas in this folder are the one source
// of the API: they give the TypeScript types (Static<...>) and, through generate.ts, the CRD YAML.
// Kubernetes wants *structural* schemas, so enums and int-or-string are spelled the way it accepts.
import {
  Type,
  type Static,
  type TSchema,
  type TObject,
  type TProperties,
  type ObjectOptions,
  type SchemaOptions,
} from '@sinclair/typebox';

export { Type };
export type { Static, TSchema };

/** A CEL validation rule with the message `kubectl apply` shows when it fails. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export const cel = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });

/** A transition rule that keeps an optional field as it was created (set, unset, or its value). */
export function immutableOptional(field: string, message: string): CelRule {
  return {
    rule: `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`,
    message,
    fieldPath: `.${field}`,
  };
}

/** An object whose properties are described; every schema here carries a description for `kubectl explain`. */
export function object<T extends TProperties>(
  description: string,
  properties: T,
  options: ObjectOptions = {},
): TObject<T> {
  return Type.Object(properties, { description, ...options });
}

export function string(description: string, options: SchemaOptions = {}) {
  return Type.String({ description, ...options });
}

export function integer(description: string, options: SchemaOptions = {}) {
  return Type.Integer({ description, ...options });
}

export function number(description: string, options: SchemaOptions = {}) {
  return Type.Number({ description, ...options });
}

export function boolean(description: string, options: SchemaOptions = {}) {
  return Type.Boolean({ description, ...options });
}

/** A string enum as Kubernetes accepts it (`enum:`), typed as the union of its values. */
export function enumOf<const V extends readonly string[]>(values: V, description: string, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...options });
}

/** map[string]string, the shape of labels, annotations and hyperparameters. */
export function stringMap(description: string, options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    description,
    ...options,
  });
}

/** A resource.Quantity: `2`, `500m`, `16Gi`. */
export function quantity(description: string) {
  return Type.Unsafe<string | number>({
    description,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern:
      '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  });
}

/** Anything Kubernetes itself validates later (env valueFrom, raw pod fields): kept as is. */
export function preserved<T>(description: string) {
  return Type.Unsafe<T>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description });
}

export function list<T extends TSchema>(items: T, description: string, options: SchemaOptions = {}) {
  return Type.Array(items, { description, ...options });
}

export const optional = Type.Optional;

/** map[string]number, the shape of reported metrics. */
export function numberMap(description: string, options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, number>>({
    type: 'object',
    additionalProperties: { type: 'number' },
    description,
    ...options,
  });
}
