// Typed CRUD for any resource given its ResourceRef. `Client` is the interface controllers use (and
// the in-memory test cluster implements); `RestClient` sends it over the keep-alive RestTransport.
// Controllers read through the Cache; they write (and occasionally read fresh) through a Client.
// Each controller gets a client scoped to its own field manager (`modelops-<controller>`, so
// managedFields say which controller owns what) and to the reconcile's AbortSignal.
import { apiErrorFrom, type ApiError } from './errors.js';
import type { HttpMethod, Query, RestTransport } from './rest.js';
import {
  apiVersionOf,
  objectKeyOf,
  type KubernetesObject,
  type ObjectKey,
  type ObjectList,
  type ResourceRef,
} from './types.js';

/** The field manager of writes made outside a controller (the Manager's own client). */
export const FIELD_MANAGER = 'modelops';

/** A controller's field manager: its writes show under this name in managedFields. */
export const fieldManagerFor = (controller: string): string => `${FIELD_MANAGER}-${controller}`;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  resourceVersion: string;
  /** Server-side timeout; the API server ends the watch cleanly after it. */
  timeoutSeconds: number;
  /** Client-side watchdog: abort when the stream is silent this long. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
export interface WatchEvent {
  type: WatchEventType;
  object: KubernetesObject;
}

export type PatchType = 'merge' | 'json' | 'strategic';
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface ApplyOptions {
  /** Take over fields another manager owns instead of failing with a 409 conflict. Default false. */
  force?: boolean;
}

/** What a controller may do to the API server. Reads in a reconcile loop belong to the Cache. */
export interface Client {
  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): Promise<T>;
  /** Every page; the result's resourceVersion is the consistent snapshot. */
  list<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, opts?: ListOptions): Promise<ObjectList<T>>;
  create<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T>;
  /** PUT; carries obj.metadata.resourceVersion, so a concurrent change fails with ConflictError. */
  update<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T>;
  /** A merge patch by default; put metadata.resourceVersion in it to make it conditional. */
  patch<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    key: ObjectKey,
    patch: unknown,
    type?: PatchType,
  ): Promise<T>;
  /** Server-side apply as this client's field manager; no force unless asked. */
  apply<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T, opts?: ApplyOptions): Promise<T>;
  delete(ref: ResourceRef, key: ObjectKey, opts?: { propagationPolicy?: PropagationPolicy }): Promise<void>;
  /** PUT to /status with the object's resourceVersion (optimistic concurrency). */
  updateStatus<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T>;
  /** Server-side apply of /status: `obj` carries apiVersion, kind, metadata.name/namespace and the status fields this manager owns. */
  applyStatus<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T, opts?: ApplyOptions): Promise<T>;
}

/** What a scoped client adds to every request. */
export interface ClientScope {
  /** Default FIELD_MANAGER. */
  fieldManager?: string;
  /** Aborts every request the client sends (a reconcile's deadline or shutdown). */
  signal?: AbortSignal;
}
const PATCH_CONTENT_TYPES: Record<PatchType | 'apply', string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml', // JSON is YAML
};

/** Pages of this size keep a large initial list from being one huge response. */
const LIST_PAGE_SIZE = 500;

function collectionPath(ref: ResourceRef, namespace?: string): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${ns}/${ref.plural}`;
}

function objectPath(ref: ResourceRef, key: ObjectKey, subresource?: 'status'): string {
  if (ref.namespaced && !key.namespace) throw new Error(`${ref.kind} ${key.name}: namespace required`);
  return `${collectionPath(ref, key.namespace)}/${encodeURIComponent(key.name)}${subresource ? `/${subresource}` : ''}`;
}

export class RestClient implements Client {
  private readonly fieldManager: string;

  constructor(
    private readonly rest: RestTransport,
    private readonly scope: ClientScope = {},
  ) {
    this.fieldManager = scope.fieldManager ?? FIELD_MANAGER;
  }

  /** The same transport with another field manager and/or AbortSignal. */
  scoped(scope: ClientScope): RestClient {
    return new RestClient(this.rest, { ...this.scope, ...scope });
  }

  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): Promise<T> {
    return this.call('GET', objectPath(ref, key));
  }

  /**
   * All pages of a list. `mapItem`, when given, is applied to each page's items as it arrives, so that what
   * it drops (an informer's managedFields) is never held for the whole list at once.
   */
  async list<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    opts: ListOptions = {},
    mapItem?: (item: T) => T,
  ): Promise<ObjectList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query: Query = {
        limit: LIST_PAGE_SIZE,
        continue: cont,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
      };
      const page = await this.call<ObjectList<T>>('GET', collectionPath(ref, opts.namespace), { query });
      items.push(...(mapItem ? page.items.map(mapItem) : page.items));
      resourceVersion ??= page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { metadata: resourceVersion ? { resourceVersion } : {}, items };
  }

  create<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.write('POST', collectionPath(ref, obj.metadata?.namespace), obj);
  }

  update<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.write('PUT', objectPath(ref, objectKeyOf(obj)), obj);
  }

  patch<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    key: ObjectKey,
    patch: unknown,
    type: PatchType = 'merge',
  ): Promise<T> {
    return this.write('PATCH', objectPath(ref, key), patch, PATCH_CONTENT_TYPES[type]);
  }

  apply<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.serverSideApply(objectPath(ref, objectKeyOf(obj)), ref, obj, opts);
  }

  applyStatus<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    obj: T,
    opts: ApplyOptions = {},
  ): Promise<T> {
    return this.serverSideApply(objectPath(ref, objectKeyOf(obj), 'status'), ref, obj, opts);
  }

  async delete(ref: ResourceRef, key: ObjectKey, opts: { propagationPolicy?: PropagationPolicy } = {}): Promise<void> {
    await this.call('DELETE', objectPath(ref, key), {
      body: { propagationPolicy: opts.propagationPolicy ?? 'Background' },
    });
  }

  updateStatus<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.write('PUT', objectPath(ref, objectKeyOf(obj), 'status'), obj);
  }

  /**
   * Streams watch events (bookmarks included) to `onEvent` until the server ends the watch (resolves)
   * or it fails (rejects; an ERROR event rejects with its ApiError, GoneError for 410).
   */
  async watch(ref: ResourceRef, opts: WatchOptions, onEvent: (event: WatchEvent) => void): Promise<void> {
    let failure: ApiError | undefined;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    // A signal that fired already fires no event: without this the watch ran until the server ended it.
    if (opts.signal?.aborted) abort();
    const query: Query = {
      watch: true,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: opts.timeoutSeconds,
      labelSelector: opts.labelSelector,
    };
    try {
      await this.rest.stream(
        collectionPath(ref, opts.namespace),
        query,
        (line) => {
          if (failure) return;
          const event = JSON.parse(line) as {
            type: string;
            object: KubernetesObject & { code?: number; reason?: string; message?: string };
          };
          if (event.type === 'ERROR') {
            const { code = 500, reason, message } = event.object;
            failure = apiErrorFrom(code, { reason, message, code }, message ?? `watch ERROR ${code}`);
            return controller.abort();
          }
          onEvent(event as WatchEvent);
        },
        { idleTimeoutMs: opts.idleTimeoutMs, signal: controller.signal },
      );
    } catch (err) {
      if (!failure) throw err;
    } finally {
      opts.signal?.removeEventListener('abort', abort);
    }
    if (failure) throw failure;
  }

  private serverSideApply<T>(path: string, ref: ResourceRef, obj: KubernetesObject, opts: ApplyOptions): Promise<T> {
    const body = { apiVersion: obj.apiVersion ?? apiVersionOf(ref), kind: obj.kind ?? ref.kind, ...obj };
    return this.call('PATCH', path, {
      body,
      contentType: PATCH_CONTENT_TYPES.apply,
      query: { fieldManager: this.fieldManager, ...(opts.force ? { force: true } : {}) },
    });
  }

  /** Every write names this client's field manager, so managedFields say who wrote what. */
  private write<T>(method: HttpMethod, path: string, body: unknown, contentType?: string): Promise<T> {
    return this.call(method, path, { body, contentType, query: { fieldManager: this.fieldManager } });
  }

  private call<T>(
    method: HttpMethod,
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    return this.rest.request<T>(method, path, { ...opts, signal: this.scope.signal });
  }
}
