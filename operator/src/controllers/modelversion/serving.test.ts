import { buildAutoscaler, buildDeployment, buildVersionService, mountUri } from './serving.js';
import { modelVersion } from './fixtures.test-helpers.js';

const params = { defaultImage: 'ghcr.io/modelops/serving:0.1.0', replicas: 2, createdAsRole: 'stable' as const };

describe('Deployment', () => {
  test('carries the labels, container, port, probes and owner of contract C1', () => {
    const d = buildDeployment(modelVersion('fraud-v1'), params);
    const labels = {
      'app.kubernetes.io/name': 'modelops-serving',
      'app.kubernetes.io/managed-by': 'modelops',
      'modelops.dev/model': 'fraud',
      'modelops.dev/version': 'v1',
      'modelops.dev/modelversion': 'fraud-v1',
    };
    expect(d.metadata).toMatchObject({ name: 'fraud-v1', namespace: 'ml', labels });
    expect(d.metadata!.ownerReferences).toEqual([
      {
        apiVersion: 'modelops.dev/v1alpha1',
        kind: 'ModelVersion',
        name: 'fraud-v1',
        uid: 'uid-fraud-v1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(d.spec!.replicas).toBe(2);
    expect(d.spec!.selector).toEqual({ matchLabels: { 'modelops.dev/modelversion': 'fraud-v1' } });
    expect(d.spec!.template.metadata!.labels).toEqual(labels);
    const [c] = d.spec!.template.spec!.containers;
    expect(c!.name).toBe('server');
    expect(c!.image).toBe('ghcr.io/modelops/serving:0.1.0');
    expect(c!.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c!.livenessProbe!.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(c!.readinessProbe!.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
  });

  test('the whole Deployment of a plain stable version', () => {
    const d = buildDeployment(modelVersion('fraud-v1'), params);
    expect(d.apiVersion).toBe('apps/v1');
    expect(d.kind).toBe('Deployment');
    const { template, ...rest } = d.spec!;
    // Pods are replaced one at a time without lowering capacity; a few old ReplicaSets are kept for rollbacks.
    expect(rest).toEqual({
      replicas: 2,
      selector: { matchLabels: { 'modelops.dev/modelversion': 'fraud-v1' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 3,
    });
    const { containers, ...pod } = template.spec!;
    expect(pod).toEqual({
      volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'models', readOnly: true } }],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // Longer than the serving image's 25 s drain after SIGTERM.
      terminationGracePeriodSeconds: 30,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const { securityContext: _securityContext, ...c } = containers[0]!;
    expect(c).toEqual({
      name: 'server',
      image: 'ghcr.io/modelops/serving:0.1.0',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [
        { name: 'MODEL_URI', value: '/models/fraud/v1/model.onnx' },
        { name: 'MODEL_NAME', value: 'fraud' },
        { name: 'MODEL_VERSION', value: 'v1' },
        { name: 'MODEL_ROLE', value: 'stable' },
      ],
      // No resources given: no empty maps, which the API server would drop (and every pass would then differ).
      resources: {},
      livenessProbe: {
        httpGet: { path: '/v2/health/live', port: 'http' },
        periodSeconds: 5,
        timeoutSeconds: 2,
        failureThreshold: 3,
      },
      readinessProbe: {
        httpGet: { path: '/v2/health/ready', port: 'http' },
        periodSeconds: 5,
        timeoutSeconds: 2,
        failureThreshold: 1,
      },
      volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
    });
  });

  test("a reference on the artifact's claim shares its volume", () => {
    const mv = modelVersion('fraud-v1', { reference: { uri: 'pvc://models/fraud/v1/reference.json' } });
    const pod = buildDeployment(mv, params).spec!.template.spec!;
    expect(pod.volumes).toEqual([{ name: 'models', persistentVolumeClaim: { claimName: 'models', readOnly: true } }]);
    expect(pod.containers[0]!.volumeMounts).toEqual([{ name: 'models', mountPath: '/models', readOnly: true }]);
    expect(pod.containers[0]!.env).toContainEqual({ name: 'REFERENCE_URI', value: '/models/fraud/v1/reference.json' });
  });

  test.each([
    [
      "a reference on a claim whose name starts like the artifact's",
      'pvc://models/fraud/model.onnx',
      'pvc://models-2/fraud/reference.json',
      ['models', 'reference'],
      '/reference/fraud/reference.json',
    ],
    [
      'a pvc reference beside an s3 artifact',
      's3://bucket/model.onnx',
      'pvc://models/fraud/reference.json',
      ['reference'],
      '/reference/fraud/reference.json',
    ],
    [
      'an s3 reference beside a pvc artifact',
      'pvc://models/model.onnx',
      's3://b/reference.json',
      ['models'],
      's3://b/reference.json',
    ],
  ])('%s gets its own volume', (_case, artifact, reference, volumes, referenceUri) => {
    const mv = modelVersion('fraud-v1', { artifact: { uri: artifact }, reference: { uri: reference } });
    const pod = buildDeployment(mv, params).spec!.template.spec!;
    expect((pod.volumes ?? []).map((v) => v.name)).toEqual(volumes);
    expect(pod.containers[0]!.env).toContainEqual({ name: 'REFERENCE_URI', value: referenceUri });
  });

  test.each([
    ['pvc://models/a/b/model.onnx', '/m/a/b/model.onnx', 'models'],
    ['pvc://models/', 'pvc://models/', undefined],
    ['xpvc://models/model.onnx', 'xpvc://models/model.onnx', undefined],
    ['s3://pvc://models/model.onnx', 's3://pvc://models/model.onnx', undefined],
  ])('mountUri(%s)', (uri, expectedUri, claim) => {
    const mounted = mountUri(uri, 'vol', '/m');
    expect(mounted.uri).toBe(expectedUri);
    expect(mounted.volume?.persistentVolumeClaim?.claimName).toBe(claim);
  });

  test.each([
    ['cpu only', { cpu: '250m' }, { requests: { cpu: '250m' } }],
    [
      'memory only: requested and limited alike',
      { memory: '512Mi' },
      { requests: { memory: '512Mi' }, limits: { memory: '512Mi' } },
    ],
    ['a CPU limit only', { cpuLimit: '1' }, { limits: { cpu: '1' } }],
  ])('resources, %s', (_case, resources, expected) => {
    const mv = modelVersion('fraud-v1', { serving: { resources } });
    expect(buildDeployment(mv, params).spec!.template.spec!.containers[0]!.resources).toEqual(expected);
  });

  test('an API key Secret with its own key', () => {
    const mv = modelVersion('fraud-v1', { serving: { apiKeySecret: { name: 'clients', key: 'api-key' } } });
    expect(buildDeployment(mv, params).spec!.template.spec!.containers[0]!.env).toContainEqual({
      name: 'API_KEY',
      valueFrom: { secretKeyRef: { name: 'clients', key: 'api-key' } },
    });
  });

  test('runs under the restricted Pod Security profile', () => {
    const spec = buildDeployment(modelVersion('fraud-v1'), params).spec!.template.spec!;
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('env: model, name, version, role at creation, reference, then the spec’s own', () => {
    const mv = modelVersion('fraud-v2', {
      reference: { uri: 'pvc://models/fraud/v2/reference.json' },
      serving: { env: [{ name: 'MODELOPS_FAULT_ERROR_RATE', value: '0.5' }] },
    });
    const env = buildDeployment(mv, { ...params, createdAsRole: 'canary' }).spec!.template.spec!.containers[0]!.env;
    expect(env).toEqual([
      { name: 'MODEL_URI', value: '/models/fraud/v2/model.onnx' },
      { name: 'MODEL_NAME', value: 'fraud' },
      { name: 'MODEL_VERSION', value: 'v2' },
      { name: 'MODEL_ROLE', value: 'canary' },
      { name: 'REFERENCE_URI', value: '/models/fraud/v2/reference.json' },
      { name: 'MODELOPS_FAULT_ERROR_RATE', value: '0.5' },
    ]);
  });

  test.each([
    [
      'pvc artifact: the claim read-only at /models',
      { artifact: { uri: 'pvc://models/fraud/v1/model.onnx' } },
      '/models/fraud/v1/model.onnx',
      [{ name: 'models', persistentVolumeClaim: { claimName: 'models', readOnly: true } }],
      [{ name: 'models', mountPath: '/models', readOnly: true }],
      undefined,
    ],
    [
      'pvc artifact with a reference on another claim: both mounted',
      {
        artifact: { uri: 'pvc://models/fraud/model.onnx' },
        reference: { uri: 'pvc://refs/fraud/reference.json' },
      },
      '/models/fraud/model.onnx',
      [
        { name: 'models', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
        { name: 'reference', persistentVolumeClaim: { claimName: 'refs', readOnly: true } },
      ],
      [
        { name: 'models', mountPath: '/models', readOnly: true },
        { name: 'reference', mountPath: '/reference', readOnly: true },
      ],
      undefined,
    ],
    [
      's3 artifact: passed through, credentials from the Secret',
      { artifact: { uri: 's3://bucket/fraud/model.onnx', credentialsSecret: { name: 'store' } } },
      's3://bucket/fraud/model.onnx',
      undefined,
      undefined,
      [{ secretRef: { name: 'store' } }],
    ],
    [
      'http artifact: passed through',
      { artifact: { uri: 'https://models.example.com/fraud/model.onnx' } },
      'https://models.example.com/fraud/model.onnx',
      undefined,
      undefined,
      undefined,
    ],
  ])('%s', (_case, spec, modelUri, volumes, mounts, envFrom) => {
    const pod = buildDeployment(modelVersion('fraud-v1', spec), params).spec!.template.spec!;
    const c = pod.containers[0]!;
    expect(c.env!.find((e) => e.name === 'MODEL_URI')!.value).toBe(modelUri);
    expect(pod.volumes).toEqual(volumes);
    expect(c.volumeMounts).toEqual(mounts);
    expect(c.envFrom).toEqual(envFrom);
  });

  test('workers and the API key Secret reach the serving image’s WORKERS and API_KEY, before the spec’s own env', () => {
    const mv = modelVersion('fraud-v1', {
      serving: { workers: 4, apiKeySecret: { name: 'fraud-clients' }, env: [{ name: 'LOG_LEVEL', value: 'debug' }] },
    });
    const env = buildDeployment(mv, params).spec!.template.spec!.containers[0]!.env!;
    expect(env.slice(-3)).toEqual([
      { name: 'WORKERS', value: '4' },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'fraud-clients', key: 'token' } } },
      { name: 'LOG_LEVEL', value: 'debug' },
    ]);
  });

  test('resources: requests, memory limit, optional CPU limit; image from the spec wins over the flag', () => {
    const mv = modelVersion('fraud-v1', {
      serving: { image: 'registry.local/serving:dev', resources: { cpu: '500m', cpuLimit: 2, memory: '1Gi' } },
    });
    const c = buildDeployment(mv, params).spec!.template.spec!.containers[0]!;
    expect(c.image).toBe('registry.local/serving:dev');
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } });
  });

  test('an autoscaled Deployment leaves replicas to the HPA', () => {
    const d = buildDeployment(modelVersion('fraud-v1'), { ...params, replicas: 'autoscaled' });
    expect(d.spec).not.toHaveProperty('replicas');
  });

  test('mountUri refuses nothing it cannot mount: a pvc URI without a path passes through', () => {
    expect(mountUri('pvc://models', 'models', '/models')).toEqual({ uri: 'pvc://models' });
  });
});

test('the version Service selects that version alone, on port 80 → http', () => {
  const s = buildVersionService(modelVersion('fraud-v2'));
  expect(s.apiVersion).toBe('v1');
  expect(s.kind).toBe('Service');
  expect(s.metadata!.labels).toEqual({
    'app.kubernetes.io/name': 'modelops-serving',
    'app.kubernetes.io/managed-by': 'modelops',
    'modelops.dev/model': 'fraud',
    'modelops.dev/version': 'v2',
    'modelops.dev/modelversion': 'fraud-v2',
  });
  expect(s.metadata!.name).toBe('fraud-v2');
  expect(s.metadata!.ownerReferences![0]!.name).toBe('fraud-v2');
  expect(s.spec).toEqual({
    selector: { 'modelops.dev/modelversion': 'fraud-v2' },
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
  });
});

test('the HPA exists only when autoscaling is asked for, targeting the Deployment', () => {
  expect(buildAutoscaler(modelVersion('fraud-v1'))).toBeUndefined();
  const hpa = buildAutoscaler(modelVersion('fraud-v1', { serving: { autoscaling: { maxReplicas: 8 } } }))!;
  expect(hpa.spec).toEqual({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud-v1' },
    minReplicas: 1,
    maxReplicas: 8,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
  });
});

test("the HPA's own minimum and CPU target win over the defaults", () => {
  const mv = modelVersion('fraud-v1', {
    serving: { autoscaling: { minReplicas: 3, maxReplicas: 9, targetCPUUtilizationPercentage: 55 } },
  });
  const hpa = buildAutoscaler(mv)!;
  expect(hpa.apiVersion).toBe('autoscaling/v2');
  expect(hpa.kind).toBe('HorizontalPodAutoscaler');
  expect(hpa.metadata).toMatchObject({ name: 'fraud-v1', namespace: 'ml' });
  expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
  expect(hpa.spec!.metrics![0]!.resource!.target.averageUtilization).toBe(55);
});
