// Which resources the API server serves, from its discovery documents (/api/v1, /apis/GROUP/VERSION).
// An optional resource (DRA's ResourceClaimTemplates, Gateway API's HTTPRoutes, ...) is watched only
// while it is served: clusters without the API group, or without the CRD yet, are normal.
import { isNotFound } from './errors.js';
import type { RestTransport } from './rest.js';
import type { ResourceRef } from './types.js';

interface APIResourceList {
  resources?: { name: string }[];
}

export interface Discovery {
  /** True when the API server serves `ref` now. Rejects when the server cannot be asked (the caller retries). */
  isServed(ref: ResourceRef): Promise<boolean>;
}

export class RestDiscovery implements Discovery {
  constructor(private readonly rest: RestTransport) {}

  async isServed(ref: ResourceRef): Promise<boolean> {
    const path = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
    try {
      const list = await this.rest.request<APIResourceList>('GET', path);
      return (list.resources ?? []).some((r) => r.name === ref.plural);
    } catch (err) {
      if (isNotFound(err)) return false; // the group/version is not served at all
      throw err;
    }
  }
}
