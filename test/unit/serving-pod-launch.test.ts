// What the bed's serving-pod runner derives from a pod (contract C1): env, PVC mounts mapped to local
// directories, listen address and readiness probe.
import type { V1Pod } from '@kubernetes/client-node';
import { LaunchError, expand, planLaunch, type RefLookup } from '../bed/dataplane/launch.js';

const noRefs: RefLookup = { configMap: async () => undefined, secret: async () => undefined };

function servingPod(container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): V1Pod {
  return {
    metadata: { name: 'fraud-v1-abc', namespace: 'ml', uid: 'u1', labels: { 'modelops.dev/version': 'v1' } },
    spec: {
      nodeName: 'cpu-0',
      containers: [
        {
          name: 'server',
          image: 'modelops/serving:dev',
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'MODEL_URI', value: '/models/fraud/v1/model.onnx' },
            { name: 'MODEL_NAME', value: 'fraud' },
          ],
          volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
          ...container,
        },
      ],
      volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'artifacts', readOnly: true } }],
      ...spec,
    },
    status: { podIP: '10.0.0.7', hostIP: '127.0.10.1', phase: 'Running' },
  };
}

test('a pvc:// model path under the mount becomes the claim directory; HOST and PORT are the pod IP and http port', async () => {
  const launch = await planLaunch(servingPod(), '/bed/volumes', noRefs, '/usr/bin');
  expect(launch.env).toEqual({
    PATH: '/usr/bin',
    MODEL_URI: '/bed/volumes/ml/artifacts/fraud/v1/model.onnx',
    MODEL_NAME: 'fraud',
    HOST: '10.0.0.7',
    PORT: '8080',
  });
  expect(launch).toMatchObject({ ip: '10.0.0.7', port: 8080, readinessPath: '/v2/health/ready', readinessPort: 8080 });
});

test('a subPath mount and the longest mount path win', async () => {
  const pod = servingPod({
    env: [
      { name: 'MODEL_URI', value: '/models/v2/model.onnx' },
      { name: 'REFERENCE_URI', value: '/models/ref/reference.json' },
    ],
    volumeMounts: [
      { name: 'models', mountPath: '/models', subPath: 'fraud' },
      { name: 'refs', mountPath: '/models/ref/' },
    ],
  });
  pod.spec!.volumes!.push({ name: 'refs', persistentVolumeClaim: { claimName: 'references' } });
  const { env } = await planLaunch(pod, '/v', noRefs, '/usr/bin');
  expect(env.MODEL_URI).toBe('/v/ml/artifacts/fraud/v2/model.onnx');
  expect(env.REFERENCE_URI).toBe('/v/ml/references/reference.json');
});

test('field references, ConfigMap and Secret references and $(VAR) expansion resolve as a kubelet would', async () => {
  const lookup: RefLookup = {
    configMap: async (ns, name) => (ns === 'ml' && name === 'settings' ? { LOG_LEVEL: 'debug' } : undefined),
    secret: async (ns, name) => (name === 's3' ? { key: 'AKIA', secret: 'shh' } : undefined),
  };
  const pod = servingPod({
    envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 's3' }, prefix: 'S3_' }],
    env: [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'VERSION', valueFrom: { fieldRef: { fieldPath: "metadata.labels['modelops.dev/version']" } } },
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3', key: 'key' } } },
      { name: 'MODEL_URI', value: '/models/$(VERSION)/model.onnx' },
      { name: 'LITERAL', value: '$$(VERSION) $(UNDEFINED)' },
    ],
  });
  const { env } = await planLaunch(pod, '/v', lookup, '/usr/bin');
  expect(env).toMatchObject({
    LOG_LEVEL: 'debug',
    S3_key: 'AKIA',
    S3_secret: 'shh',
    POD: 'fraud-v1-abc',
    VERSION: 'v1',
    AWS_ACCESS_KEY_ID: 'AKIA',
    MODEL_URI: '/v/ml/artifacts/v1/model.onnx',
    LITERAL: '$(VERSION) $(UNDEFINED)',
  });
});

test('a missing Secret is a launch error naming it; an optional one is skipped', async () => {
  const missing = servingPod({ env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] });
  await expect(planLaunch(missing, '/v', noRefs, '/usr/bin')).rejects.toThrow(
    new LaunchError('K: key "k" of Secret "gone" not found'),
  );
  const optional = servingPod({ envFrom: [{ secretRef: { name: 'gone', optional: true } }] });
  await expect(planLaunch(optional, '/v', noRefs, '/usr/bin')).resolves.toBeDefined();
});

test("the readiness probe's path and named port are used", async () => {
  const pod = servingPod({
    ports: [
      { name: 'http', containerPort: 9000 },
      { name: 'admin', containerPort: 9001 },
    ],
    readinessProbe: { httpGet: { path: '/ready', port: 'admin' } },
  });
  const launch = await planLaunch(pod, '/v', noRefs, '/usr/bin');
  expect(launch).toMatchObject({ port: 9000, readinessPath: '/ready', readinessPort: 9001 });
});

test('a pod without an IP, or with several containers and none named server, cannot be launched', async () => {
  const noIp = servingPod();
  noIp.status = {};
  await expect(planLaunch(noIp, '/v', noRefs, '/usr/bin')).rejects.toThrow('the pod has no IP yet');
  const two = servingPod({ name: 'a' });
  two.spec!.containers.push({ name: 'b' });
  await expect(planLaunch(two, '/v', noRefs, '/usr/bin')).rejects.toThrow('no container named "server"');
});

test('$(VAR) expansion', () => {
  expect(expand('$(A)-$(B)-$$(A)-$(C', { A: '1', B: '2' })).toBe('1-2-$(A)-$(C');
});
