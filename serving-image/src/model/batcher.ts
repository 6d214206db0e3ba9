// Dynamic batching: requests that arrive while the model is busy (or within the queue delay) share one
// `session.run`, concatenated along axis 0, and get their own rows of every output back.
//
// A run starts as soon as the model is idle and the oldest queued request has waited `maxQueueDelayMicros`
// (0: at the end of the current event-loop turn, so everything parsed in one I/O pass joins), or at once when
// `maxBatchSize` rows are queued. One run is in flight at a time: on a CPU-limited pod a second concurrent run
// only competes for the same cores, while queueing behind the first makes the next batch bigger.
import { createData, type Tensor, type TypedTensorData } from './tensor.js';

export type Execute = (inputs: Tensor[]) => Promise<Tensor[]>;

export interface BatcherOptions {
  maxBatchSize: number;
  maxQueueDelayMicros: number;
  /** Called with the rows of every run, for the batch-size histogram. */
  onRun: (rows: number) => void;
  /** Called when the last queued request has been answered. */
  onIdle?: () => void;
}

interface Job {
  inputs: Tensor[];
  rows: number;
  queuedAt: number;
  resolve: (outputs: Tensor[]) => void;
  reject: (error: unknown) => void;
}

export class Batcher {
  private queue: Job[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly execute: Execute,
    private readonly options: BatcherOptions,
  ) {}

  /** Inputs in the model's order, all with `rows` rows; resolves to the outputs in the model's order. */
  submit(inputs: Tensor[], rows: number): Promise<Tensor[]> {
    return new Promise((resolve, reject) => {
      // Without a queue delay (the default) nobody asks how long a request has waited.
      const queuedAt = this.options.maxQueueDelayMicros > 0 ? performance.now() : 0;
      this.queue.push({ inputs, rows, queuedAt, resolve, reject });
      this.queuedRows += rows;
      this.schedule();
    });
  }

  /** No request queued or running. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0 && !this.immediate;
  }

  private schedule(): void {
    if (this.running || this.immediate) return;
    if (this.queue.length === 0) return this.options.onIdle?.();
    const delay = this.options.maxQueueDelayMicros;
    const remainingMicros = delay > 0 ? delay - (performance.now() - this.queue[0]!.queuedAt) * 1000 : 0;
    if (this.queuedRows >= this.options.maxBatchSize || remainingMicros <= 0) this.runSoon();
    else if (!this.timer) {
      // The oldest request's delay is up when this fires. Nothing else can have started a run meanwhile: a run
      // starts only through runSoon, which clears this timer.
      this.timer = setTimeout(() => this.runSoon(), remainingMicros / 1000);
    }
  }

  /** At the end of this event-loop turn, so that everything parsed in the same I/O pass joins. */
  private runSoon(): void {
    clearTimeout(this.timer); // a no-op when called by the timer itself
    this.timer = undefined;
    this.immediate = setImmediate(() => this.runNext());
  }

  private runNext(): void {
    this.immediate = undefined;
    const batch = this.takeBatch();
    this.running = true;
    this.runBatch(batch)
      // A bug past the run itself must fail the requests, not leave them hanging (or crash the process).
      .catch((error: unknown) => batch.forEach((job) => job.reject(error)))
      .finally(() => {
        this.running = false;
        this.schedule();
      });
  }

  /** The oldest job and the queued jobs after it that fit beside it. */
  private takeBatch(): Job[] {
    const first = this.queue[0]!;
    const batch = [first];
    let rows = first.rows;
    const rest: Job[] = [];
    for (let i = 1; i < this.queue.length; i++) {
      const job = this.queue[i]!;
      if (rows + job.rows <= this.options.maxBatchSize && sameTrailingDimensions(job.inputs, first.inputs)) {
        batch.push(job);
        rows += job.rows;
      } else {
        rest.push(job);
      }
    }
    this.queue = rest;
    this.queuedRows -= rows;
    return batch;
  }

  private async runBatch(batch: Job[]): Promise<void> {
    if (batch.length === 1) {
      const job = batch[0]!;
      this.options.onRun(job.rows);
      await this.execute(job.inputs).then(job.resolve, job.reject);
      return;
    }
    let outputs: Tensor[];
    try {
      const rows = batch.reduce((sum, job) => sum + job.rows, 0);
      this.options.onRun(rows);
      outputs = await this.execute(concatenate(batch, rows));
      if (outputs.some((output) => output.shape[0] !== rows)) throw new Error('an output is not batched along axis 0');
    } catch {
      // One request's values can make the whole run fail (an index out of range, say): run each alone so
      // only that request gets the error.
      for (const job of batch) await this.runBatch([job]);
      return;
    }
    let offset = 0;
    for (const job of batch) {
      job.resolve(outputs.map((output) => sliceRows(output, offset, job.rows)));
      offset += job.rows;
    }
  }
}

/** Requests batch together only when their inputs agree on every dimension but the first. */
function sameTrailingDimensions(a: Tensor[], b: Tensor[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!.shape;
    const y = b[i]!.shape;
    for (let d = 1; d < x.length; d++) if (x[d] !== y[d]) return false;
  }
  return true;
}

function concatenate(batch: Job[], rows: number): Tensor[] {
  return batch[0]!.inputs.map((first, i) => {
    const rowSize = first.data.length / first.shape[0]!;
    const data = createData(first.datatype, rows * rowSize);
    let offset = 0;
    for (const job of batch) {
      const part = job.inputs[i]!.data;
      // All jobs' input i share a datatype (validated), hence an array class.
      if (Array.isArray(data)) for (let j = 0; j < part.length; j++) data[offset + j] = part[j] as string;
      else (data as Float32Array).set(part as Float32Array, offset);
      offset += part.length;
    }
    return { name: first.name, datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
  });
}

/** `rows` rows from `first`: a view of a typed array (no copy), a slice of strings. */
function sliceRows(output: Tensor, first: number, rows: number): Tensor {
  const rowSize = output.data.length / output.shape[0]!;
  const [start, end] = [first * rowSize, (first + rows) * rowSize];
  return {
    name: output.name,
    datatype: output.datatype,
    shape: [rows, ...output.shape.slice(1)],
    data: Array.isArray(output.data)
      ? output.data.slice(start, end)
      : (output.data as TypedTensorData).subarray(start, end),
  };
}
