// An in-memory stand-in for the API server behind the runtime's own interfaces (Client, Cache,
// EventRecorder), so a reconciler's decisions can be table-tested in milliseconds. It is not a mock
// of @kubernetes/client-node: it keeps objects and applies the API server's rules that reconcilers
// depend on — uid, resourceVersion and its optimistic concurrency (409 Conflict), generation bumped by
// spec changes, AlreadyExists/NotFound, status only through /status, deletionTimestamp while
// finalizers remain, merge patches. Not modelled: admission and schema validation (use
// `interceptWrites` to make the server refuse something), garbage collection, field ownership of
// server-side apply (applied fields are merged in), watches (the cache is always current).
import { isDeepStrictEqual } from 'node:util';
import pino from 'pino';
import type { ApplyOptions, Client, ClientScope, ListOptions, PatchType, PropagationPolicy } from '../client.js';
import { fieldManagerFor, FIELD_MANAGER } from '../client.js';
import { toMetaTime, type Clock } from '../clock.js';
import { FakeClock } from './fake-clock.js';
import { forSpecOf, type ControllerOptions, type ReconcileContext, type ReconcileResult } from '../controller.js';
import { AlreadyExistsError, ConflictError, NotFoundError, ResourceUnavailableError } from '../errors.js';
import type { EventRecorder, EventType } from '../events.js';
import { Finalizers } from '../finalizers.js';
import type { Cache, ListQuery } from '../store/cache.js';
import { compileSelector } from '../store/label-selector.js';
import type { IndexFunc } from '../store/store.js';
import { StatusWriter } from '../status.js';
import {
  apiVersionOf,
  keyToString,
  objectKeyOf,
  resourceId,
  resourceName,
  type KubernetesObject,
  type ObjectKey,
  type ObjectList,
  type ResourceRef,
} from '../types.js';

export type WriteVerb = 'create' | 'update' | 'patch' | 'apply' | 'delete' | 'updateStatus' | 'applyStatus';

export interface RecordedWrite {
  verb: WriteVerb;
  /** `jobs.batch/v1` */
  resource: string;
  key: ObjectKey;
  fieldManager: string;
}

/** A line a reconcile logged: its level's name, its fields and its message (no time, pid or host). */
export type LogRecord = { level: string; msg: string } & Record<string, unknown>;

export interface RecordedEvent {
  regarding: { kind?: string; namespace?: string; name?: string };
  type: EventType;
  reason: string;
  message: string;
}

/** Return an error to make the "API server" refuse a write (e.g. an ApiError 422 for an invalid Job). */
export type WriteInterceptor = (write: {
  verb: WriteVerb;
  ref: ResourceRef;
  key: ObjectKey;
  object?: KubernetesObject;
}) => Error | undefined;

export class InMemoryCluster {
  /** Every write any client of this cluster made, in order. */
  readonly writes: RecordedWrite[] = [];
  /** Every Event recorded, in order (no deduplication). */
  readonly events: RecordedEvent[] = [];
  /** Every line the reconciles logged, debug and above, in order. */
  readonly logs: LogRecord[] = [];
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  /** The Manager's client: field manager `modelops`. */
  readonly client: Client;
  /** A cache that is always current (no watch lag) and reads every resource. */
  readonly cache: Cache;
  private readonly objects = new Map<string, Map<string, KubernetesObject>>();
  private readonly indexes = new Map<string, Map<string, IndexFunc>>();
  private readonly unavailable = new Set<string>();
  private interceptors: WriteInterceptor[] = [];
  private readonly logger = pino(
    { level: 'debug', base: undefined, timestamp: false, formatters: { level: (level) => ({ level }) } },
    { write: (line: string) => void this.logs.push(JSON.parse(line) as LogRecord) },
  );
  private version = 0;
  private uids = 0;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? new FakeClock();
    this.recorder = {
      event: async (obj, type, reason, message) => {
        const m = obj.metadata ?? {};
        this.events.push({
          regarding: { kind: obj.kind, namespace: m.namespace, name: m.name },
          type,
          reason,
          message,
        });
      },
    };
    this.client = this.clientFor({});
    this.cache = this.cacheFor(undefined);
  }

  /** Puts objects in as they are (status included), filling in uid, resourceVersion, generation and creationTimestamp. */
  seed(ref: ResourceRef, ...objects: KubernetesObject[]): void {
    for (const obj of objects) {
      const copy = clone(obj);
      const metadata = (copy.metadata ??= {});
      metadata.uid ??= this.newUid();
      metadata.generation ??= 1;
      metadata.creationTimestamp ??= toMetaTime(this.clock.now());
      metadata.resourceVersion = this.nextVersion();
      this.store(ref).set(
        keyToString(objectKeyOf(copy)),
        freeze({ apiVersion: apiVersionOf(ref), kind: ref.kind, ...copy }),
      );
    }
  }

  /** The object as stored now (frozen), or undefined. */
  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): T | undefined {
    return this.store(ref).get(keyToString(key)) as T | undefined;
  }

  list<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, namespace?: string): T[] {
    return [...this.store(ref).values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    ) as T[];
  }

  /** Makes the "API server" stop (or start again) serving `ref`: cache.isAvailable turns false, reads throw. */
  setAvailable(ref: ResourceRef, available: boolean): void {
    if (available) this.unavailable.delete(resourceId(ref));
    else this.unavailable.add(resourceId(ref));
  }

  interceptWrites(interceptor: WriteInterceptor): void {
    this.interceptors.push(interceptor);
  }

  addIndex(ref: ResourceRef, name: string, keys: IndexFunc): void {
    const id = resourceId(ref);
    this.indexes.set(id, (this.indexes.get(id) ?? new Map()).set(name, keys));
  }

  clientFor(scope: ClientScope): Client {
    return new InMemoryClient(this, scope.fieldManager ?? FIELD_MANAGER, scope.signal);
  }

  /**
   * What the Manager hands a reconcile of `controller`: a client writing as `modelops-<name>`, a
   * cache that — like the real one — refuses resources the controller did not declare, the
   * recorder, status writer and finalizers, a logger writing to `logs`, a signal (pass one to test
   * cancellation) and a deadline.
   */
  context(controller: ControllerOptions, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): ReconcileContext {
    for (const index of controller.indexes ?? []) this.addIndex(index.resource, index.name, index.keys);
    const signal = opts.signal ?? new AbortController().signal;
    const client = this.clientFor({ fieldManager: fieldManagerFor(controller.name), signal });
    return {
      log: this.logger,
      client,
      cache: this.cacheFor(declaredResources(controller)),
      recorder: this.recorder,
      status: new StatusWriter(client, this.clock),
      finalizers: new Finalizers(client),
      signal,
      deadline: new Date(this.clock.now().getTime() + (opts.timeoutMs ?? controller.reconcileTimeoutMs ?? 60_000)),
      now: () => this.clock.now(),
    };
  }

  /** One reconcile of `key`, as a worker would run it. */
  reconcile(controller: ControllerOptions, key: ObjectKey): Promise<ReconcileResult> {
    return controller.reconcile(this.context(controller), key);
  }

  /** @internal the in-memory client's side */
  write(
    verb: WriteVerb,
    ref: ResourceRef,
    key: ObjectKey,
    fieldManager: string,
    object: KubernetesObject | undefined,
    change: (current: KubernetesObject | undefined) => KubernetesObject | undefined,
  ): KubernetesObject | undefined {
    if (ref.namespaced && !key.namespace) throw new Error(`${ref.kind} ${key.name}: namespace required`);
    if (this.unavailable.has(resourceId(ref)))
      throw new NotFoundError(
        404,
        'NotFound',
        `the server could not find the requested resource (${resourceName(ref)})`,
      );
    for (const intercept of this.interceptors) {
      const err = intercept({ verb, ref, key, object });
      if (err) throw err;
    }
    const store = this.store(ref);
    const id = keyToString(key);
    const current = store.get(id);
    let next = change(current);
    if (next && next.metadata?.deletionTimestamp && !(next.metadata.finalizers ?? []).length) next = undefined;
    if (next) {
      next.metadata!.resourceVersion = this.nextVersion();
      store.set(id, freeze(next));
    } else store.delete(id);
    this.writes.push({ verb, resource: resourceName(ref), key, fieldManager });
    return next;
  }

  /** @internal */
  newUid(): string {
    return `uid-${++this.uids}`;
  }

  /** @internal */
  store(ref: ResourceRef): Map<string, KubernetesObject> {
    const id = resourceId(ref);
    let store = this.objects.get(id);
    if (!store) this.objects.set(id, (store = new Map()));
    return store;
  }

  private nextVersion(): string {
    return String(++this.version);
  }

  private cacheFor(declared: Set<string> | undefined): Cache {
    const readable = (ref: ResourceRef): Map<string, KubernetesObject> => {
      if (declared && !declared.has(resourceId(ref)))
        throw new Error(`no informer for ${resourceName(ref)}: list it in a controller's for/owns/watches`);
      if (this.unavailable.has(resourceId(ref)))
        throw new ResourceUnavailableError(`${resourceName(ref)} is not available (the API server does not serve it)`);
      return this.store(ref);
    };
    return {
      get: <T extends KubernetesObject>(ref: ResourceRef, key: ObjectKey) =>
        readable(ref).get(keyToString(key)) as T | undefined,
      list: <T extends KubernetesObject>(ref: ResourceRef, query: ListQuery = {}) => {
        const matches = compileSelector(query.labelSelector);
        const index = query.index && this.indexes.get(resourceId(ref))?.get(query.index.name);
        if (query.index && !index)
          throw new Error(`no index named ${query.index.name}: declare it in a controller's indexes`);
        return [...readable(ref).values()].filter(
          (o) =>
            (query.namespace === undefined || o.metadata?.namespace === query.namespace) &&
            matches(o.metadata?.labels ?? {}) &&
            (!index || index(o).includes(query.index!.value)),
        ) as T[];
      },
      isAvailable: (ref) => !this.unavailable.has(resourceId(ref)),
    };
  }
}

function declaredResources(controller: ControllerOptions): Set<string> {
  const refs = [
    forSpecOf(controller).resource,
    ...(controller.owns ?? []).map((o) => ('resource' in o ? o.resource : o)),
    ...(controller.watches ?? []).map((w) => w.resource),
    ...(controller.indexes ?? []).map((i) => i.resource),
  ];
  return new Set(refs.map(resourceId));
}

class InMemoryClient implements Client {
  constructor(
    private readonly cluster: InMemoryCluster,
    private readonly fieldManager: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): Promise<T> {
    this.signal?.throwIfAborted();
    const obj = this.cluster.store(ref).get(keyToString(key));
    if (!obj) throw notFound(ref, key);
    return clone(obj) as T;
  }

  async list<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    this.signal?.throwIfAborted();
    const matches = compileSelector(opts.labelSelector);
    const fields = Object.fromEntries(
      (opts.fieldSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((f) => f.split('=') as [string, string]),
    );
    const items = [...this.cluster.store(ref).values()].filter(
      (o) =>
        (opts.namespace === undefined || o.metadata?.namespace === opts.namespace) &&
        matches(o.metadata?.labels ?? {}) &&
        (fields['metadata.name'] === undefined || o.metadata?.name === fields['metadata.name']) &&
        (fields['metadata.namespace'] === undefined || o.metadata?.namespace === fields['metadata.namespace']),
    );
    return { metadata: {}, items: items.map((o) => clone(o) as T) };
  }

  async create<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    const name = obj.metadata?.name ?? `${obj.metadata?.generateName ?? ''}${Math.random().toString(36).slice(2, 7)}`;
    const key = { namespace: obj.metadata?.namespace, name };
    return this.send('create', ref, key, obj, (current) => {
      if (current) throw new AlreadyExistsError(409, 'AlreadyExists', `${ref.plural} "${name}" already exists`);
      const created = clone(obj);
      delete created.status; // status is written through /status only
      created.apiVersion = apiVersionOf(ref);
      created.kind = ref.kind;
      created.metadata = {
        ...created.metadata,
        name,
        uid: this.cluster.newUid(),
        generation: 1,
        creationTimestamp: toMetaTime(this.cluster.clock.now()),
      };
      return created;
    });
  }

  async update<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    const key = objectKeyOf(obj);
    return this.send('update', ref, key, obj, (current) => {
      const existing = this.existing(ref, key, current, obj.metadata?.resourceVersion);
      return withSpecOf(existing, { ...clone(obj), status: existing.status });
    });
  }

  async patch<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    key: ObjectKey,
    patch: unknown,
    type: PatchType = 'merge',
  ): Promise<T> {
    if (type !== 'merge') throw new Error(`the in-memory client supports merge patches only, not ${type}`);
    const precondition = (patch as KubernetesObject).metadata?.resourceVersion;
    return this.send('patch', ref, key, undefined, (current) => {
      const existing = this.existing(ref, key, current, precondition);
      const patched = mergePatch(clone(existing), patch) as KubernetesObject;
      return withSpecOf(existing, { ...patched, status: existing.status });
    });
  }

  async apply<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    obj: T,
    _opts?: ApplyOptions,
  ): Promise<T> {
    const key = objectKeyOf(obj);
    if (!this.cluster.store(ref).get(keyToString(key))) return this.create(ref, obj);
    return this.send('apply', ref, key, obj, (current) => {
      const existing = this.existing(ref, key, current);
      const merged = mergePatch(clone(existing), { ...clone(obj), status: undefined }) as KubernetesObject;
      return withSpecOf(existing, { ...merged, status: existing.status });
    });
  }

  async applyStatus<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    obj: T,
    _opts?: ApplyOptions,
  ): Promise<T> {
    const key = objectKeyOf(obj);
    return this.send('applyStatus', ref, key, obj, (current) => {
      const existing = clone(this.existing(ref, key, current));
      return { ...existing, status: mergePatch(clone(existing.status ?? {}), clone(obj.status ?? {})) };
    });
  }

  async delete(ref: ResourceRef, key: ObjectKey, _opts?: { propagationPolicy?: PropagationPolicy }): Promise<void> {
    await this.send('delete', ref, key, undefined, (current) => {
      const existing = clone(this.existing(ref, key, current));
      if (!(existing.metadata?.finalizers ?? []).length) return undefined;
      existing.metadata!.deletionTimestamp ??= toMetaTime(this.cluster.clock.now());
      return existing;
    });
  }

  async updateStatus<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    const key = objectKeyOf(obj);
    return this.send('updateStatus', ref, key, obj, (current) => {
      const existing = clone(this.existing(ref, key, current, obj.metadata?.resourceVersion));
      return { ...existing, status: clone(obj.status) };
    });
  }

  private async send<T>(
    verb: WriteVerb,
    ref: ResourceRef,
    key: ObjectKey,
    object: KubernetesObject | undefined,
    change: (current: KubernetesObject | undefined) => KubernetesObject | undefined,
  ): Promise<T> {
    this.signal?.throwIfAborted();
    const written = this.cluster.write(verb, ref, key, this.fieldManager, object, change);
    return (written ? clone(written) : undefined) as T;
  }

  private existing(
    ref: ResourceRef,
    key: ObjectKey,
    current: KubernetesObject | undefined,
    resourceVersion?: string,
  ): KubernetesObject {
    if (!current) throw notFound(ref, key);
    if (resourceVersion !== undefined && resourceVersion !== current.metadata?.resourceVersion)
      throw new ConflictError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${ref.plural} "${key.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    return current;
  }
}

/** `next` with the server-owned metadata of `current`; generation moves when anything but metadata/status changed. */
function withSpecOf(current: KubernetesObject, next: KubernetesObject): KubernetesObject {
  const { metadata: _m1, status: _s1, ...currentBody } = current;
  const { metadata: _m2, status: _s2, ...nextBody } = next;
  const generation = (current.metadata?.generation ?? 1) + (isDeepStrictEqual(currentBody, nextBody) ? 0 : 1);
  return {
    ...next,
    metadata: {
      ...next.metadata,
      uid: current.metadata?.uid,
      creationTimestamp: current.metadata?.creationTimestamp,
      deletionTimestamp: current.metadata?.deletionTimestamp,
      generation,
    },
  };
}

/** RFC 7386: objects merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notFound(ref: ResourceRef, key: ObjectKey): NotFoundError {
  return new NotFoundError(404, 'NotFound', `${ref.plural}.${ref.group || 'core'} "${key.name}" not found`);
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
}
