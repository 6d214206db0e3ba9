// Checks a decoded request against the model's declared inputs and outputs. Pure, so the messages are
// unit-tested; every message names the tensor and what is wrong with it.
import { invalidArgument } from './errors.js';
import { elementCount, type Tensor, type TensorSpec } from './tensor.js';

/**
 * Returns the inputs in the model's declared order and the batch size (rows along axis 0).
 * Throws an invalid-argument InferenceError otherwise.
 */
export function validateInputs(
  specs: readonly TensorSpec[],
  inputs: readonly Tensor[],
): { ordered: Tensor[]; rows: number } {
  // The usual single-input model: no lookup table needed.
  if (specs.length === 1 && inputs.length === 1 && inputs[0]!.name === specs[0]!.name) {
    checkAgainstSpec(inputs[0]!, specs[0]!);
    return { ordered: inputs as Tensor[], rows: inputs[0]!.shape[0] ?? 1 };
  }
  const byName = new Map<string, Tensor>();
  for (const input of inputs) {
    if (byName.has(input.name)) throw invalidArgument(`input '${input.name}' is given more than once`);
    if (!specs.some((spec) => spec.name === input.name)) {
      throw invalidArgument(
        `unknown input '${input.name}'; the model's inputs are ${specs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    byName.set(input.name, input);
  }
  let rows = -1;
  const ordered = specs.map((spec) => {
    const input = byName.get(spec.name);
    if (!input) throw invalidArgument(`missing input '${spec.name}'`);
    checkAgainstSpec(input, spec);
    const inputRows = input.shape[0] ?? 1;
    if (rows !== -1 && inputRows !== rows) {
      throw invalidArgument(`input '${input.name}' has ${inputRows} rows but the other inputs have ${rows}`);
    }
    rows = inputRows;
    return input;
  });
  return { ordered, rows };
}

function checkAgainstSpec(input: Tensor, spec: TensorSpec): void {
  if (input.datatype !== spec.datatype) {
    throw invalidArgument(`input '${input.name}' has datatype ${input.datatype}, the model expects ${spec.datatype}`);
  }
  const fits =
    input.shape.length === spec.shape.length && spec.shape.every((dim, i) => dim === -1 || dim === input.shape[i]);
  if (!fits) {
    throw invalidArgument(
      `input '${input.name}' has shape [${input.shape}], the model expects [${spec.shape}] (-1: any size)`,
    );
  }
  const expected = elementCount(input.shape);
  if (expected === 0) throw invalidArgument(`input '${input.name}' is empty: its shape [${input.shape}] has a 0`);
  if (input.data.length !== expected) {
    throw invalidArgument(
      `input '${input.name}' has ${input.data.length} values, its shape [${input.shape}] needs ${expected}`,
    );
  }
}

/** Output names the client asked for, checked; undefined when it asked for all. */
export function validateRequestedOutputs(specs: readonly TensorSpec[], names: readonly string[] | undefined): void {
  if (!names) return;
  const seen = new Set<string>();
  for (const name of names) {
    if (!specs.some((spec) => spec.name === name)) {
      throw invalidArgument(
        `unknown output '${name}'; the model's outputs are ${specs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    if (seen.has(name)) throw invalidArgument(`output '${name}' is requested more than once`);
    seen.add(name);
  }
}
