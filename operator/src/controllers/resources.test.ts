// The resources the controllers watch and write, checked against two sources that do not read resources.ts: the
// objects the builders make (a watch on another kind or version would never see them) and the chart's RBAC rules
// (a resource the operator cannot list and watch is a controller that never starts in a real cluster).
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import type { ResourceRef } from '../runtime/index.js';
import { modelVersion } from './modelversion/fixtures.test-helpers.js';
import { buildAutoscaler, buildDeployment, buildVersionService } from './modelversion/serving.js';
import { DEPLOYMENT, HPA, JOB, POD, RESOURCE_CLAIM_TEMPLATE, SERVICE } from './resources.js';
import { trainingJob } from './trainingjob/fixtures.test-helpers.js';
import { buildClaimTemplate, buildJob } from './trainingjob/job.js';

const apiVersion = (ref: ResourceRef) => (ref.group ? `${ref.group}/${ref.version}` : ref.version);

const dra = trainingJob({
  gpus: { count: 1, allocation: 'DynamicResourceAllocation', deviceClassName: 'gpu.nvidia.com' },
});
const autoscaled = modelVersion('fraud-v1', { serving: { autoscaling: { maxReplicas: 4 } } });
const deployment = buildDeployment(autoscaled, { defaultImage: 'serving:1', replicas: 2, createdAsRole: 'stable' });

test.each<[string, ResourceRef, { apiVersion?: string; kind?: string; metadata?: { namespace?: string } }]>([
  ['Job', JOB, buildJob(trainingJob())],
  ['ResourceClaimTemplate', RESOURCE_CLAIM_TEMPLATE, buildClaimTemplate(dra)!],
  ['Deployment', DEPLOYMENT, deployment],
  ['Service', SERVICE, buildVersionService(autoscaled)],
  ['HorizontalPodAutoscaler', HPA, buildAutoscaler(autoscaled)!],
  // Pods are the Job controller's; the Deployment's template is the nearest object of ours that says what they are.
  ['Pod', POD, { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: deployment.metadata!.namespace } }],
])('%s: the resource watched is the one the builder writes, in a namespace', (_kind, ref, object) => {
  expect({ apiVersion: apiVersion(ref), kind: ref.kind }).toEqual({
    apiVersion: object.apiVersion,
    kind: object.kind,
  });
  expect(ref.namespaced).toBe(true);
  expect(object.metadata?.namespace).toBe('ml');
});

describe("the chart's RBAC grants what the controllers watch", () => {
  const helpers = readFileSync('charts/modelops/templates/_helpers.tpl', 'utf8');
  const block = /{{- define "modelops.rules" -}}\n([\s\S]*?){{- end -}}/.exec(helpers)![1]!;
  const rules = load(block) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const verbsFor = (ref: ResourceRef) =>
    rules.filter((r) => r.apiGroups.includes(ref.group) && r.resources.includes(ref.plural)).flatMap((r) => r.verbs);

  test.each([JOB, POD, SERVICE, RESOURCE_CLAIM_TEMPLATE, DEPLOYMENT, HPA])('$group $plural', (ref) => {
    expect(verbsFor(ref)).toEqual(expect.arrayContaining(['get', 'list', 'watch']));
  });
});
