// Who may call which route. Health probes and the metrics scrape are always open; inference, metadata and the
// repository index need the API key when one is configured; loading and unloading models are off unless model
// control is enabled, and then need their own key (an inference client cannot swap the model).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Route } from './routes.js';

export type Scope = 'api' | 'control';
export type AuthFailure = 'missing' | 'invalid';

const SCOPE_OF: Record<Route['kind'], Scope | undefined> = {
  live: undefined,
  ready: undefined,
  'model-ready': undefined,
  metrics: undefined,
  server: 'api',
  model: 'api',
  infer: 'api',
  'repository-index': 'api',
  load: 'control',
  unload: 'control',
};

export type Denial =
  | { status: 401; error: string; scope: Scope; reason: AuthFailure }
  | { status: 403; error: string; scope: Scope; reason: 'disabled' };

export interface AccessOptions {
  apiKey: string | undefined;
  /** Undefined: model control is disabled. */
  modelControlKey: string | undefined;
}

/** A bearer token compared in constant time: both sides are hashed first, so not even the length leaks. */
class BearerToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  check(authorization: string | undefined): AuthFailure | undefined {
    if (!authorization) return 'missing';
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return 'invalid';
    return timingSafeEqual(sha256(match[1]!), this.digest) ? undefined : 'invalid';
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export class AccessPolicy {
  private readonly apiKey: BearerToken | undefined;
  private readonly controlKey: BearerToken | undefined;

  constructor(options: AccessOptions) {
    this.apiKey = options.apiKey === undefined ? undefined : new BearerToken(options.apiKey);
    this.controlKey = options.modelControlKey === undefined ? undefined : new BearerToken(options.modelControlKey);
  }

  /** Undefined when the request may go on; otherwise what to answer. */
  check(kind: Route['kind'], authorization: string | undefined): Denial | undefined {
    const scope = SCOPE_OF[kind];
    if (scope === undefined) return undefined;
    if (scope === 'control' && !this.controlKey) {
      return {
        status: 403,
        error:
          'model control is disabled on this server (MODEL_CONTROL); models change by rolling out a new ModelVersion',
        scope,
        reason: 'disabled',
      };
    }
    const token = scope === 'control' ? this.controlKey : this.apiKey;
    const reason = token?.check(authorization);
    if (!reason) return undefined;
    const error =
      reason === 'missing' ? 'this route needs an Authorization: Bearer token' : 'the bearer token is not valid';
    return { status: 401, error, scope, reason };
  }
}
