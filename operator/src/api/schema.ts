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

/** map[string]string, the shape of labels, annotations and hyperparameters; bound it (maxProperties, value maxLength). */
export function stringMap(description: string, options: SchemaOptions & { maxValueLength?: number } = {}) {
  const { maxValueLength, ...rest } = options;
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    // Without a bound, maxLength is undefined, which the CRD's JSON copy of the schema leaves out.
    additionalProperties: { type: 'string', maxLength: maxValueLength },
    description,
    ...rest,
  });
}

/**
 * A resource.Quantity (`2`, `500m`, `16Gi`), never negative. `x-kubernetes-int-or-string` is how a
 * structural schema says "integer or string" (what `kubectl explain` shows as IntOrString).
 */
export function quantity(description: string) {
  return Type.Unsafe<string | number>({
    description: `${description} A quantity: an integer or a string such as 500m, 1.5 or 16Gi.`,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    minimum: 0, // applies to the integer form; the pattern to the string form
    maxLength: 64,
    pattern:
      '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  });
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
