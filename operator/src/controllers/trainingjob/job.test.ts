import {
  buildJob,
  buildWorkersService,
  buildClaimTemplate,
  clusterUri,
  containerOutputUri,
  GPU_TOLERATION,
  totalGpus,
} from './job.js';
import { trainingJob } from './fixtures.test-helpers.js';

const envOf = (job: ReturnType<typeof buildJob>) =>
  Object.fromEntries((job.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('buildJob', () => {
  test('requests GPUs through the device plugin with the NVIDIA toleration by default', () => {
    const job = buildJob(
      trainingJob({ gpus: { count: 2, allocation: 'DevicePlugin', deviceClassName: 'gpu.nvidia.com' } }),
    );
    const pod = job.spec!.template.spec!;
    expect(pod.containers[0]!.resources!.limits).toEqual({ 'nvidia.com/gpu': '2' });
    expect(pod.tolerations).toEqual([GPU_TOLERATION]);
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.resourceClaims).toBeUndefined();
  });

  test('selects the GPU model by the GPU feature discovery label', () => {
    const pod = buildJob(
      trainingJob({
        gpus: {
          count: 1,
          model: 'NVIDIA-H100-80GB-HBM3',
          allocation: 'DevicePlugin',
          deviceClassName: 'gpu.nvidia.com',
        },
      }),
    ).spec!.template.spec!;
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
  });

  test('a CPU-only run asks for no GPU and tolerates no GPU taint', () => {
    const pod = buildJob(
      trainingJob({
        gpus: { count: 0, allocation: 'DevicePlugin', deviceClassName: 'gpu.nvidia.com' },
        resources: { cpu: 4, memory: '8Gi' },
      }),
    ).spec!.template.spec!;
    expect(pod.tolerations).toBeUndefined();
    expect(pod.containers[0]!.resources).toEqual({
      limits: { cpu: '4', memory: '8Gi' },
      requests: { cpu: '4', memory: '8Gi' },
    });
  });

  test('owns the Job, labels it, and passes the run policy through', () => {
    const job = buildJob(
      trainingJob({
        runPolicy: {
          backoffLimit: 2,
          activeDeadlineSeconds: 3600,
          ttlSecondsAfterFinished: 600,
          suspend: true,
          queueName: 'gpu-queue',
        },
      }),
    );
    expect(job.metadata!.ownerReferences).toEqual([
      {
        apiVersion: 'modelops.dev/v1alpha1',
        kind: 'TrainingJob',
        name: 'fraud-1',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(job.metadata!.labels).toMatchObject({
      'modelops.dev/trainingjob': 'fraud-1',
      'kueue.x-k8s.io/queue-name': 'gpu-queue',
    });
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600, suspend: true });
    // the controller deletes the Job itself, once the run's outcome is recorded
    expect(job.spec!.ttlSecondsAfterFinished).toBeUndefined();
    expect(job.spec!.completionMode).toBeUndefined();
  });

  test('fails at once on bad input (exit code 2) and does not count evictions as failures', () => {
    expect(buildJob(trainingJob()).spec!.podFailurePolicy!.rules).toEqual([
      { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [2] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
  });

  test("hands the container its data, output, hyperparameters and the user's own env, after the operator's", () => {
    const job = buildJob(
      trainingJob({
        hyperparameters: { lr: '0.001', epochs: '3' },
        env: [
          { name: 'WANDB_MODE', value: 'offline' },
          { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
        ],
      }),
    );
    expect(envOf(job)).toMatchObject({
      MODELOPS_DATASET_URI: 'synthetic://fraud?rows=1000&seed=7',
      MODELOPS_DATASET_VERSION: 'v3',
      MODELOPS_OUTPUT_URI: '/output/fraud',
      MODELOPS_HYPERPARAMETERS: '{"lr":"0.001","epochs":"3"}',
      WANDB_MODE: 'offline',
      HF_TOKEN: { secretKeyRef: { name: 'hf', key: 'token' } },
    });
    expect(job.spec!.template.spec!.containers[0]!.env!.at(-1)!.name).toBe('HF_TOKEN');
  });

  test('crash logs become the failure message: the termination message falls back to the logs', () => {
    expect(buildJob(trainingJob()).spec!.template.spec!.containers[0]).toMatchObject({
      name: 'trainer',
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
  });

  test("the pods keep the operator's labels whatever podMetadata says; the rest of podMetadata goes through", () => {
    const template = buildJob(
      trainingJob({
        podMetadata: {
          labels: { team: 'risk', 'modelops.dev/trainingjob': 'someone-else' },
          annotations: { 'sim.modelops.dev/run-for': '1s' },
        },
      }),
    ).spec!.template.metadata!;
    expect(template.labels).toMatchObject({ team: 'risk', 'modelops.dev/trainingjob': 'fraud-1' });
    expect(template.annotations).toEqual({ 'sim.modelops.dev/run-for': '1s' });
  });

  test('paths the container reports under the output mount become pvc:// URIs; others pass through', () => {
    const tj = trainingJob({ output: { uri: 'pvc://models/fraud' } });
    expect(clusterUri(tj, '/output/fraud/run/model.onnx')).toBe('pvc://models/fraud/run/model.onnx');
    expect(clusterUri(tj, '/outputs/model.onnx')).toBe('/outputs/model.onnx');
    const s3 = trainingJob({ output: { uri: 's3://bucket/models', credentialsSecret: { name: 'c' } } });
    expect(clusterUri(s3, 's3://bucket/models/model.onnx')).toBe('s3://bucket/models/model.onnx');
    expect(containerOutputUri('pvc://models')).toBe('/output');
  });

  test('mounts the output PVC, or passes S3 credentials from the Secret', () => {
    const pvc = buildJob(trainingJob()).spec!.template.spec!;
    expect(pvc.volumes).toEqual([{ name: 'output', persistentVolumeClaim: { claimName: 'models' } }]);
    const s3 = buildJob(trainingJob({ output: { uri: 's3://bucket/models', credentialsSecret: { name: 's3-creds' } } }))
      .spec!.template.spec!;
    expect(s3.volumes).toEqual([]);
    expect(s3.containers[0]!.volumeMounts).toEqual([]);
    expect(s3.containers[0]!.envFrom).toEqual([{ secretRef: { name: 's3-creds' } }]);
    expect(containerOutputUri('s3://bucket/models')).toBe('s3://bucket/models');
  });

  test('runs restricted: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp', () => {
    const pod = buildJob(trainingJob()).spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  test('multi-node runs as an Indexed Job with the environment torchrun expects', () => {
    const tj = trainingJob({
      nodes: 4,
      gpus: { count: 8, allocation: 'DevicePlugin', deviceClassName: 'gpu.nvidia.com' },
    });
    const job = buildJob(tj);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(job.spec!.template.spec!.subdomain).toBe('fraud-1-workers');
    const env = envOf(job);
    expect(env).toMatchObject({
      MASTER_ADDR: 'fraud-1-0.fraud-1-workers',
      MASTER_PORT: '29500',
      WORLD_SIZE: '4',
      PET_NNODES: '4',
      PET_NPROC_PER_NODE: '8',
    });
    expect(env.NODE_RANK).toEqual({
      fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
    });
    const service = buildWorkersService(tj)!;
    expect(service.spec).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'modelops.dev/trainingjob': 'fraud-1' },
    });
    expect(buildWorkersService(trainingJob())).toBeUndefined();
  });

  test('under DRA, claims GPUs from a ResourceClaimTemplate instead of the extended resource', () => {
    const tj = trainingJob({
      gpus: {
        count: 2,
        model: 'NVIDIA-H100-80GB-HBM3',
        allocation: 'DynamicResourceAllocation',
        deviceClassName: 'gpu.nvidia.com',
      },
    });
    const pod = buildJob(tj).spec!.template.spec!;
    expect(pod.containers[0]!.resources).toEqual({ limits: {}, requests: {}, claims: [{ name: 'gpus' }] });
    expect(pod.resourceClaims).toEqual([{ name: 'gpus', resourceClaimTemplateName: 'fraud-1-gpus' }]);
    expect(pod.nodeSelector).toBeUndefined();
    const template = buildClaimTemplate(tj)!;
    expect(template.spec.spec.devices.requests[0]!.exactly).toEqual({
      deviceClassName: 'gpu.nvidia.com',
      allocationMode: 'ExactCount',
      count: 2,
      selectors: [
        { cel: { expression: 'device.attributes["gpu.nvidia.com"].productName == "NVIDIA-H100-80GB-HBM3"' } },
      ],
    });
    expect(buildClaimTemplate(trainingJob())).toBeUndefined();
  });
});

describe('the whole of what runs', () => {
  // Every field of the Job, Service and claim template for two runs, so that none can go missing or change unnoticed:
  // each is something the Job controller, the scheduler, the kubelet or torchrun acts on.
  const rank = { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } };
  const ownerReferences = [
    {
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'TrainingJob',
      name: 'fraud-1',
      uid: 'uid-1',
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const labels = {
    'app.kubernetes.io/name': 'modelops-training',
    'app.kubernetes.io/managed-by': 'modelops',
    'modelops.dev/trainingjob': 'fraud-1',
  };
  const restricted = {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const podFailurePolicy = {
    rules: [
      { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [2] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ],
  };

  test('a single-node run on the defaults: one GPU through the device plugin, output on the PVC', () => {
    const tj = trainingJob({ dataset: { uri: 's3://data/fraud.parquet' }, command: ['python'], args: ['train.py'] });
    expect(buildJob(tj)).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'fraud-1', namespace: 'ml', labels, ownerReferences },
      spec: {
        backoffLimit: 0,
        suspend: false,
        podFailurePolicy,
        template: {
          metadata: { labels, annotations: {} },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'trainer',
                image: 'ghcr.io/modelops/training:0.1.0',
                command: ['python'],
                args: ['train.py'],
                env: [
                  { name: 'MODELOPS_DATASET_URI', value: 's3://data/fraud.parquet' },
                  { name: 'MODELOPS_DATASET_VERSION', value: '' },
                  { name: 'MODELOPS_OUTPUT_URI', value: '/output/fraud' },
                  { name: 'MODELOPS_HYPERPARAMETERS', value: '{}' },
                ],
                resources: { limits: { 'nvidia.com/gpu': '1' }, requests: {} },
                volumeMounts: [{ name: 'output', mountPath: '/output' }],
                terminationMessagePolicy: 'FallbackToLogsOnError',
                securityContext: restricted,
              },
            ],
            volumes: [{ name: 'output', persistentVolumeClaim: { claimName: 'models' } }],
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              fsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          },
        },
      },
    });
    expect(buildWorkersService(tj)).toBeUndefined();
    expect(buildClaimTemplate(tj)).toBeUndefined();
  });

  test('a two-node run under DRA: Indexed, ranks from the completion index, a headless Service, one claim per pod', () => {
    const tj = trainingJob({
      nodes: 2,
      gpus: { count: 4, allocation: 'DynamicResourceAllocation', deviceClassName: 'h100.example.com' },
      runPolicy: { activeDeadlineSeconds: 7200 },
    });
    const job = buildJob(tj);
    expect(totalGpus(tj)).toBe(8);
    expect(job.spec).toMatchObject({
      activeDeadlineSeconds: 7200,
      completionMode: 'Indexed',
      completions: 2,
      parallelism: 2,
    });
    const pod = job.spec!.template.spec!;
    expect(pod.subdomain).toBe('fraud-1-workers');
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.resourceClaims).toEqual([{ name: 'gpus', resourceClaimTemplateName: 'fraud-1-gpus' }]);
    const trainer = pod.containers[0]!;
    expect(trainer.ports).toEqual([{ name: 'rendezvous', containerPort: 29500 }]);
    expect(trainer.resources).toEqual({ limits: {}, requests: {}, claims: [{ name: 'gpus' }] });
    expect(trainer.env!.slice(4)).toEqual([
      { name: 'MASTER_ADDR', value: 'fraud-1-0.fraud-1-workers' },
      { name: 'MASTER_PORT', value: '29500' },
      { name: 'WORLD_SIZE', value: '2' },
      { name: 'RANK', valueFrom: rank },
      { name: 'NODE_RANK', valueFrom: rank },
      { name: 'PET_NNODES', value: '2' },
      { name: 'PET_NPROC_PER_NODE', value: '4' },
      { name: 'PET_NODE_RANK', valueFrom: rank },
      { name: 'PET_MASTER_ADDR', value: 'fraud-1-0.fraud-1-workers' },
      { name: 'PET_MASTER_PORT', value: '29500' },
    ]);
    expect(buildWorkersService(tj)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fraud-1-workers', namespace: 'ml', labels, ownerReferences },
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'modelops.dev/trainingjob': 'fraud-1' },
        ports: [{ name: 'rendezvous', port: 29500, targetPort: 29500 }],
      },
    });
    expect(buildClaimTemplate(tj)).toEqual({
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'fraud-1-gpus', namespace: 'ml', labels, ownerReferences },
      spec: {
        spec: {
          devices: {
            requests: [
              { name: 'gpu', exactly: { deviceClassName: 'h100.example.com', allocationMode: 'ExactCount', count: 4 } },
            ],
          },
        },
      },
    });
  });

  test('a CPU-only run on several nodes still starts one process per node; DRA with no GPUs claims nothing', () => {
    const tj = trainingJob({
      nodes: 3,
      gpus: { count: 0, allocation: 'DynamicResourceAllocation', deviceClassName: 'gpu.nvidia.com' },
    });
    const pod = buildJob(tj).spec!.template.spec!;
    expect(envOf(buildJob(tj)).PET_NPROC_PER_NODE).toBe('1');
    expect(pod.resourceClaims).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.containers[0]!.resources).toEqual({ limits: {}, requests: {} });
    expect(buildClaimTemplate(tj)).toBeUndefined();
  });

  test('a GPU model is selected by the claim under DRA, by the node label with the device plugin, never both', () => {
    const gpus = { count: 1, model: 'NVIDIA-A100-SXM4-40GB', deviceClassName: 'gpu.nvidia.com' } as const;
    const dra = trainingJob({ gpus: { ...gpus, allocation: 'DynamicResourceAllocation' } });
    expect(buildJob(dra).spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(buildClaimTemplate(dra)!.spec.spec.devices.requests[0]!.exactly.selectors).toEqual([
      { cel: { expression: 'device.attributes["gpu.nvidia.com"].productName == "NVIDIA-A100-SXM4-40GB"' } },
    ]);
    const plugin = trainingJob({ gpus: { ...gpus, allocation: 'DevicePlugin' } });
    expect(buildJob(plugin).spec!.template.spec!.nodeSelector).toEqual({
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
    });
    expect(buildClaimTemplate(plugin)).toBeUndefined();
  });

  test("without the API server's defaults (an object stored before them): the device plugin; DRA from gpu.nvidia.com", () => {
    expect(buildJob(trainingJob({ gpus: { count: 2 } })).spec!.template.spec!.containers[0]!.resources).toEqual({
      limits: { 'nvidia.com/gpu': '2' },
      requests: {},
    });
    const dra = trainingJob({ gpus: { count: 2, allocation: 'DynamicResourceAllocation' } });
    expect(buildClaimTemplate(dra)!.spec.spec.devices.requests[0]!.exactly.deviceClassName).toBe('gpu.nvidia.com');
  });

  test('an output of the mount itself is the claim root; a path that only starts like the mount is not under it', () => {
    const tj = trainingJob({ output: { uri: 'pvc://models' } });
    expect(clusterUri(tj, '/output')).toBe('pvc://models');
    expect(clusterUri(tj, '/output2/model.onnx')).toBe('/output2/model.onnx');
    // an s3:// output has no mount: a path is passed on as reported
    const s3 = trainingJob({ output: { uri: 's3://bucket/models', credentialsSecret: { name: 'c' } } });
    expect(clusterUri(s3, '/output/model.onnx')).toBe('/output/model.onnx');
  });
});
