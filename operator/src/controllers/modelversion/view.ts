// What one pass of the per-model reconcile looks at, gathered once: every ModelVersion of the model
// with what its Deployment reports, the model's Service and the HTTPRoutes that may carry its traffic.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ModelVersion, Role } from '../../api/index.js';
import type { HTTPRoute } from './traffic/httproute.js';

export interface DeploymentView {
  readyReplicas: number;
  /** The pods it asks for (spec.replicas): for an autoscaled version, what its HPA set. */
  replicas?: number;
  /** MODEL_ROLE in its pod template: the role it was created with (never changed, see serving.ts). */
  createdAsRole?: Role;
  /** Why the Deployment gave up (its Progressing condition at ProgressDeadlineExceeded). */
  failed?: string;
}

export interface VersionView {
  mv: ModelVersion;
  deployment?: DeploymentView;
  /** Its Deployment's or Service's name is taken by an object it does not own. */
  conflict?: string;
}

export interface ModelView {
  namespace: string;
  model: string;
  now: Date;
  /** Every ModelVersion of the model, those being deleted included. */
  versions: VersionView[];
  modelService?: V1Service;
  /** The model's Service name is taken by a Service the operator did not make. */
  modelServiceConflict?: string;
  /** HTTPRoutes of the namespace by name (the owned `<model>` and any a spec names). */
  routes: Record<string, HTTPRoute>;
  gatewayApiAvailable: boolean;
  /** The operator's --prometheus-url (a spec may name its own). */
  defaultPrometheusUrl?: string;
}

export function deploymentView(d: V1Deployment | undefined): DeploymentView | undefined {
  if (!d) return undefined;
  const role = d.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'MODEL_ROLE')?.value;
  const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
  return {
    readyReplicas: d.status?.readyReplicas ?? 0,
    ...(d.spec?.replicas !== undefined ? { replicas: d.spec.replicas } : {}),
    ...(role === 'stable' || role === 'canary' ? { createdAsRole: role } : {}),
    ...(progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded'
      ? { failed: progressing.message ?? 'the Deployment exceeded its progress deadline' }
      : {}),
  };
}

export const isDeleting = (v: VersionView) => Boolean(v.mv.metadata.deletionTimestamp);
