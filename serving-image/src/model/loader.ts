// Turns a model source into a warmed LoadedModel, or fails without leaving anything half-loaded behind.
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { parseReference, type Reference } from '../reference.js';
import type { BatcherOptions } from './batcher.js';
import { NotFoundError, type Fetcher } from './fetch.js';
import { LoadedModel, signatureOf, type ModelSignature, type ModelSource } from './loaded-model.js';

export interface LoaderOptions {
  fetch: Fetcher;
  intraOpThreads: number;
  batching: BatcherOptions;
  logger: Logger;
}

export type ModelLoader = (source: ModelSource) => Promise<LoadedModel>;

/** Milliseconds each phase of a load took: what a slow cold start is made of. */
export interface LoadTimings {
  fetch: number;
  session: number;
  reference: number;
  warmUp: number;
}

// onnxruntime logs warnings as plain text on stderr (one is that a read-only filesystem keeps it from saving a
// telemetry id); load failures still reach us as exceptions, which the core logs as JSON.
ort.env.logLevel = 'error';

export function createLoader(options: LoaderOptions): ModelLoader {
  return async (source) => {
    const timings: LoadTimings = { fetch: 0, session: 0, reference: 0, warmUp: 0 };
    const timed = async <T>(phase: keyof LoadTimings, step: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await step();
      } finally {
        timings[phase] = Math.round(performance.now() - started);
      }
    };
    const bytes = await timed('fetch', () => options.fetch(source.modelUri));
    let session: ort.InferenceSession;
    try {
      session = await timed('session', () =>
        ort.InferenceSession.create(bytes, {
          intraOpNumThreads: options.intraOpThreads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        }),
      );
    } catch (error) {
      throw new Error(`${source.modelUri} is not a loadable ONNX model: ${(error as Error).message}`, { cause: error });
    }
    try {
      const signature = signatureOf(session);
      const reference = await timed('reference', () => loadReference(source.referenceUri, signature, options));
      const model = new LoadedModel(session, signature, source, reference, options.batching, timings);
      await timed('warmUp', () => model.warmUp());
      return model;
    } catch (error) {
      await session.release();
      throw error;
    }
  };
}

async function loadReference(
  uri: string,
  signature: ModelSignature,
  options: LoaderOptions,
): Promise<Reference | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await options.fetch(uri);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    options.logger.warn(
      { referenceUri: uri },
      'no reference distribution; serving without feature and score histograms',
    );
    return undefined;
  }
  return parseReference(bytes, uri, signature.inputs, signature.outputs);
}
