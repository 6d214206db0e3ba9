// One loaded, warmed ONNX model: its onnxruntime session, its signature, its reference distribution, and the
// batcher in front of the session. Released once it has been replaced and its last request has finished.
import * as ort from 'onnxruntime-node';
import type { Reference } from '../reference.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import type { LoadTimings } from './loader.js';
import { createData, datatypeFromOrt, elementCount, ortTypeOf, type Tensor, type TensorSpec } from './tensor.js';

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Every input and output has a dynamic first dimension, so requests can be concatenated along it. */
  batchable: boolean;
}

export interface ModelSource {
  modelUri: string;
  referenceUri: string;
}

export class LoadedModel {
  /** Index of the output holding class probabilities: the reference's, else the first FP32 [batch, classes]. */
  readonly predictionOutput: number | undefined;
  private readonly batcher: Batcher | undefined;
  /** Requests running outside a batcher (models that cannot batch). */
  private inFlight = 0;
  private retired = false;
  private released = false;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly signature: ModelSignature,
    readonly source: ModelSource,
    readonly reference: Reference | undefined,
    batching: BatcherOptions,
    /** How long each phase of its load took, in ms (filled in as the load goes on). */
    readonly loadMillis: LoadTimings,
  ) {
    this.batcher = signature.batchable
      ? new Batcher((inputs) => this.execute(inputs), { ...batching, onIdle: () => this.releaseIfDone() })
      : undefined;
    const index = reference
      ? signature.outputs.findIndex((spec) => spec.name === reference.prediction.output)
      : signature.outputs.findIndex((spec) => spec.datatype === 'FP32' && spec.shape.length === 2);
    this.predictionOutput = index === -1 ? undefined : index;
  }

  /** Inputs validated and in the model's order; returns every output in the model's order. */
  infer(inputs: Tensor[], rows: number): Promise<Tensor[]> {
    // The batcher says when it has nothing left (onIdle): no per-request bookkeeping on the usual path.
    return this.batcher ? this.batcher.submit(inputs, rows) : this.executeCounted(inputs);
  }

  /** One inference on zeros, so the first real request does not pay for onnxruntime's lazy initialisation. */
  async warmUp(): Promise<void> {
    await this.execute(
      this.signature.inputs.map((spec) => {
        const shape = spec.shape.map((dim) => (dim === -1 ? 1 : dim));
        return {
          name: spec.name,
          datatype: spec.datatype,
          shape,
          data: createData(spec.datatype, elementCount(shape)),
        };
      }),
    );
  }

  /** Stops using the session; it is released when the requests still running on it have finished. */
  retire(): void {
    this.retired = true;
    this.releaseIfDone();
  }

  private async executeCounted(inputs: Tensor[]): Promise<Tensor[]> {
    this.inFlight++;
    try {
      return await this.execute(inputs);
    } finally {
      this.inFlight--;
      this.releaseIfDone();
    }
  }

  private releaseIfDone(): void {
    if (!this.retired || this.released || this.inFlight > 0 || (this.batcher && !this.batcher.idle)) return;
    this.released = true;
    void this.session.release().catch(() => undefined);
  }

  private async execute(inputs: Tensor[]): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      feeds[input.name] = new ort.Tensor(
        ortTypeOf(input.datatype) as 'float32',
        input.data as Float32Array,
        input.shape,
      );
    }
    const results = await this.session.run(feeds);
    return this.signature.outputs.map((spec) => {
      const result = results[spec.name]!;
      return {
        name: spec.name,
        datatype: spec.datatype as Tensor['datatype'],
        shape: [...result.dims],
        data: result.data as Tensor['data'],
      };
    });
  }
}

/** The model's inputs and outputs in protocol terms; throws if serving cannot feed or return them. */
export function signatureOf(session: ort.InferenceSession): ModelSignature {
  const describe = (metadata: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorSpec[] =>
    metadata.map((value) => {
      if (!value.isTensor) throw new Error(`${kind} '${value.name}' is not a tensor; only tensor ${kind}s are served`);
      const datatype = datatypeFromOrt(value.type);
      if (!datatype) {
        throw new Error(
          `${kind} '${value.name}' has type ${value.type}, which the Open Inference Protocol cannot carry`,
        );
      }
      const shape = value.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1));
      return { name: value.name, datatype, shape };
    });
  const inputs = describe(session.inputMetadata, 'input');
  const outputs = describe(session.outputMetadata, 'output');
  const batchable = [...inputs, ...outputs].every((spec) => spec.shape[0] === -1);
  return { inputs, outputs, batchable };
}
