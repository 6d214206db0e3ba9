// The inference core: which model is served, loading and hot-swapping it, and inference on decoded tensors.
// It knows nothing of HTTP; the protocol front ends (HTTP/JSON today) decode requests into these calls.
import type { Logger } from 'pino';
import { InferenceError, invalidArgument } from './errors.js';
import type { FaultInjector } from './faults.js';
import { siblingUri } from './fetch.js';
import type { LoadedModel, ModelSource } from './loaded-model.js';
import type { ModelLoader } from './loader.js';
import type { Tensor, TensorSpec } from './tensor.js';
import { validateInputs, validateRequestedOutputs } from './validate.js';

export interface InferenceRequest {
  id: string | undefined;
  inputs: Tensor[];
  /** Output names to return, in this order; undefined returns all of them. */
  outputs: string[] | undefined;
}

export interface InferenceResponse {
  modelName: string;
  modelVersion: string;
  id: string | undefined;
  outputs: Tensor[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** What the core tells the metrics about, without knowing that they are Prometheus metrics. */
export interface CoreObserver {
  modelLoaded(model: LoadedModel): void;
  inferred(model: LoadedModel, inputs: Tensor[], outputs: Tensor[]): void;
}

export interface CoreOptions {
  name: string;
  version: string;
  source: ModelSource;
  loader: ModelLoader;
  observer: CoreObserver;
  logger: Logger;
  /** While nothing could be loaded, retry this often; 0 waits for a load request. */
  loadRetryMillis: number;
  /** Test beds and chaos drills only (contract C2). */
  faults?: FaultInjector | undefined;
}

/** A changed model URI (with the reference beside it unless given) or the same source again. */
export type SourceChange = Partial<ModelSource>;

export class InferenceCore {
  private current: LoadedModel | undefined;
  private source: ModelSource;
  private loads: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CoreOptions) {
    this.source = options.source;
  }

  get modelName(): string {
    return this.options.name;
  }

  get modelVersion(): string {
    return this.options.version;
  }

  isReady(): boolean {
    return this.current !== undefined;
  }

  /** The first load; a failure leaves the server up and not ready, retrying in the background. */
  async start(): Promise<void> {
    try {
      await this.load();
    } catch {
      this.scheduleRetry();
    }
  }

  /**
   * Loads (or reloads) the model and swaps it in only once it is warmed; requests already running finish on
   * the previous model. Loads run one after another. A failed load leaves the previous model serving.
   */
  load(change: SourceChange = {}): Promise<LoadedModel> {
    const loading = this.loads.then(() => this.loadNow(change));
    this.loads = loading.catch(() => undefined);
    return loading;
  }

  metadata(name: string, version: string | undefined): ModelMetadata {
    const { inputs, outputs } = this.resolve(name, version).signature;
    return { name, versions: [this.modelVersion], platform: 'onnxruntime_onnx', inputs, outputs };
  }

  /** Throws not-found for another model or version, unavailable before a model is loaded. */
  checkReady(name: string, version: string | undefined): void {
    this.resolve(name, version);
  }

  async infer(name: string, version: string | undefined, request: InferenceRequest): Promise<InferenceResponse> {
    const model = this.resolve(name, version);
    const faults = this.options.faults;
    if (faults) await faults.beforeInference();
    const { ordered, rows } = validateInputs(model.signature.inputs, request.inputs);
    validateRequestedOutputs(model.signature.outputs, request.outputs);
    let all: Tensor[];
    try {
      all = await model.infer(ordered, rows);
    } catch (error) {
      // The input passed every structural check, so what onnxruntime objects to is its values.
      throw invalidArgument(`the model could not run on this input: ${(error as Error).message}`);
    }
    if (faults && model.predictionOutput !== undefined) faults.shiftScores(all[model.predictionOutput]!);
    this.options.observer.inferred(model, ordered, all);
    const outputs = request.outputs
      ? request.outputs.map((wanted) => all.find((output) => output.name === wanted)!)
      : all;
    return { modelName: name, modelVersion: this.modelVersion, id: request.id, outputs };
  }

  /** Waits for a load in progress, then releases the model once its running requests are done. */
  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.loads;
    this.current?.retire();
    this.current = undefined;
  }

  private resolve(name: string, version: string | undefined): LoadedModel {
    if (name !== this.options.name)
      throw new InferenceError('not-found', `unknown model '${name}'; this server serves '${this.options.name}'`);
    if (version !== undefined && version !== this.options.version) {
      throw new InferenceError(
        'not-found',
        `model '${name}' has no version '${version}'; it serves version '${this.options.version}'`,
      );
    }
    if (!this.current) throw new InferenceError('unavailable', `model '${name}' is not loaded yet`);
    return this.current;
  }

  private async loadNow(change: SourceChange): Promise<LoadedModel> {
    const modelUri = change.modelUri ?? this.source.modelUri;
    const referenceUri =
      change.referenceUri ??
      (change.modelUri ? siblingUri(change.modelUri, 'reference.json') : this.source.referenceUri);
    const source = { modelUri, referenceUri };
    const log = this.options.logger.child(source);
    const started = performance.now();
    log.info('loading model');
    let model: LoadedModel;
    try {
      model = await this.options.loader(source);
    } catch (error) {
      const serving = this.current ? 'the previous model keeps serving' : 'not ready';
      log.error({ err: error }, `model load failed (${serving}): ${(error as Error).message}`);
      throw error;
    }
    const previous = this.current;
    this.current = model;
    this.source = source;
    this.options.observer.modelLoaded(model);
    previous?.retire();
    log.info(
      {
        inputs: model.signature.inputs,
        outputs: model.signature.outputs,
        batching: model.signature.batchable,
        reference: !!model.reference,
        millis: Math.round(performance.now() - started),
      },
      'model loaded, warmed and serving',
    );
    return model;
  }

  private scheduleRetry(): void {
    if (this.options.loadRetryMillis <= 0 || this.current) return;
    this.retryTimer = setTimeout(() => {
      if (!this.current) this.load().catch(() => this.scheduleRetry());
    }, this.options.loadRetryMillis);
    this.retryTimer.unref();
  }
}
