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
  /** A model is serving as `version` from now on (a new version starts its series afresh). */
  modelLoaded(model: LoadedModel, version: string): void;
  modelUnloaded(): void;
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

/**
 * A changed model URI (with the reference beside it unless given) and the version it is, or the same source
 * again (keeping the version unless a new one is given).
 */
export type SourceChange = Partial<ModelSource> & { version?: string };

export class InferenceCore {
  private current: LoadedModel | undefined;
  private source: ModelSource;
  private version: string;
  private loads: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CoreOptions) {
    this.source = options.source;
    this.version = options.version;
  }

  get modelName(): string {
    return this.options.name;
  }

  get modelVersion(): string {
    return this.version;
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
    return this.serialised(() => this.loadNow(change));
  }

  /** Throws invalid-argument for a change of model that does not say which version it is. */
  checkLoadRequest(change: SourceChange): void {
    if (change.modelUri !== undefined && change.modelUri !== this.source.modelUri && change.version === undefined) {
      throw invalidArgument(
        `loading another model (${change.modelUri}) needs 'parameters.version': the version responses and metrics will carry`,
      );
    }
  }

  /** Stops serving (not ready) and releases the model once its running requests are done; a load brings it back. */
  unload(): Promise<void> {
    return this.serialised(async () => {
      clearTimeout(this.retryTimer);
      this.current?.retire();
      this.current = undefined;
      this.options.observer.modelUnloaded();
      this.options.logger.info({ ...this.source, version: this.version }, 'model unloaded: not ready');
    });
  }

  private serialised<T>(step: () => Promise<T>): Promise<T> {
    const running = this.loads.then(step);
    this.loads = running.catch(() => undefined);
    return running;
  }

  metadata(name: string, version: string | undefined): ModelMetadata {
    const { inputs, outputs } = this.resolve(name, version).signature;
    return { name, versions: [this.version], platform: 'onnxruntime_onnx', inputs, outputs };
  }

  /** Throws not-found for another model or version, unavailable before a model is loaded. */
  checkReady(name: string, version: string | undefined): void {
    this.resolve(name, version);
  }

  async infer(name: string, version: string | undefined, request: InferenceRequest): Promise<InferenceResponse> {
    const faults = this.options.faults;
    if (faults) await faults.beforeInference(); // before the model is chosen: it may be swapped meanwhile
    const model = this.resolve(name, version);
    const servingVersion = this.version; // the model's, even if another is swapped in while this one runs
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
    return { modelName: name, modelVersion: servingVersion, id: request.id, outputs };
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
    if (version !== undefined && version !== this.version) {
      throw new InferenceError(
        'not-found',
        `model '${name}' has no version '${version}'; it serves version '${this.version}'`,
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
    const version = change.version ?? this.version;
    const log = this.options.logger.child({ ...source, version });
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
    this.version = version;
    this.options.observer.modelLoaded(model, version);
    previous?.retire();
    log.info(
      {
        inputs: model.signature.inputs,
        outputs: model.signature.outputs,
        batching: model.signature.batchable,
        reference: !!model.reference,
        millis: Math.round(performance.now() - started),
        phases: model.loadMillis,
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
