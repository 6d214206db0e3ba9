// A controller for a resource whose behaviour has not landed yet: it records that the resource was
// seen and says so in a condition, so `kubectl get`/`describe` tell the truth instead of staying blank.
import type {
  ControllerOptions,
  KubernetesObject,
  ObjectKey,
  ReconcileContext,
  ResourceRef,
} from '../runtime/index.js';

export function awaitingController(name: string, resource: ResourceRef, message: string): ControllerOptions {
  return {
    name,
    for: resource,
    async reconcile(ctx: ReconcileContext, key: ObjectKey) {
      const obj = ctx.cache.get<KubernetesObject>(resource, key);
      if (!obj || obj.metadata?.deletionTimestamp) return;
      await ctx.status.update(resource, obj, {
        observedGeneration: obj.metadata?.generation,
        phase: 'Pending',
        conditions: [{ type: 'Ready', status: 'False', reason: 'NotImplemented', message }],
      });
    },
  };
}
