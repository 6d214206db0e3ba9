// Failures the inference core reports, by kind rather than by transport status, so that each front end
// (HTTP today, gRPC later) maps them to its own codes.

export type InferenceErrorKind = 'invalid-argument' | 'not-found' | 'unavailable' | 'internal';

export class InferenceError extends Error {
  constructor(
    readonly kind: InferenceErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

export const invalidArgument = (message: string): InferenceError => new InferenceError('invalid-argument', message);
