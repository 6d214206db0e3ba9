// Typed CRUD for any resource given its ResourceRef, over the keep-alive RestTransport.
// Controllers read through the Cache; they write (and occasionally read fresh) through this Client.
import { apiErrorFrom, type ApiError } from './errors.js';
import type { HttpMethod, Query, RestTransport } from './rest.js';
import { objectKeyOf, type KubernetesObject, type ObjectKey, type ObjectList, type ResourceRef } from './types.js';

/** The field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'modelops';

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

export class Client {
  constructor(private readonly rest: RestTransport) {}

  get<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, key: ObjectKey): Promise<T> {
    return this.call('GET', objectPath(ref, key));
  }

  /** Lists every page; the result's resourceVersion is the consistent snapshot to watch from. */
  async list<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    opts: ListOptions = {},
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
      items.push(...page.items);
      resourceVersion ??= page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { metadata: resourceVersion ? { resourceVersion } : {}, items };
  }

  create<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.call('POST', collectionPath(ref, obj.metadata?.namespace), { body: obj });
  }

  /** PUT; carries obj.metadata.resourceVersion, so a concurrent change fails with ConflictError. */
  update<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.call('PUT', objectPath(ref, objectKeyOf(obj)), { body: obj });
  }

  patch<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    key: ObjectKey,
    patch: unknown,
    type: PatchType = 'merge',
  ): Promise<T> {
    return this.call('PATCH', objectPath(ref, key), { body: patch, contentType: PATCH_CONTENT_TYPES[type] });
  }

  /** Server-side apply as field manager 'modelops'. `force` takes over fields other managers own. */
  apply<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    obj: T,
    opts: { force?: boolean } = {},
  ): Promise<T> {
    const body = { apiVersion: obj.apiVersion, kind: obj.kind, ...obj };
    return this.call('PATCH', objectPath(ref, objectKeyOf(obj)), {
      body,
      contentType: PATCH_CONTENT_TYPES.apply,
      query: { fieldManager: FIELD_MANAGER, force: opts.force ?? true },
    });
  }

  async delete(
    ref: ResourceRef,
    key: ObjectKey,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<void> {
    await this.call('DELETE', objectPath(ref, key), {
      body: { propagationPolicy: opts.propagationPolicy ?? 'Background' },
    });
  }

  /** PUT to /status with the object's resourceVersion (optimistic concurrency). */
  updateStatus<T extends KubernetesObject = KubernetesObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.call('PUT', objectPath(ref, objectKeyOf(obj), 'status'), { body: obj });
  }

  /** Merge patch to /status. Put metadata.resourceVersion in the patch to make it conditional. */
  patchStatus<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    key: ObjectKey,
    patch: unknown,
  ): Promise<T> {
    return this.call('PATCH', objectPath(ref, key, 'status'), { body: patch, contentType: PATCH_CONTENT_TYPES.merge });
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

  private call<T>(
    method: HttpMethod,
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    return this.rest.request<T>(method, path, opts);
  }
}
