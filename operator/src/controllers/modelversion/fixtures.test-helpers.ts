// ModelVersions and the objects they own, for the controller's unit tests.
import type { ModelVersion, ModelVersionSpec, ModelVersionStatus } from '../../api/index.js';

export function modelVersion(
  name: string,
  spec: Partial<ModelVersionSpec> = {},
  status?: ModelVersionStatus,
  metadata: Partial<ModelVersion['metadata']> = {},
): ModelVersion {
  const version = name.replace(/^fraud-/, '');
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...metadata,
    },
    spec: { model: 'fraud', version, artifact: { uri: `pvc://models/fraud/${version}/model.onnx` }, ...spec },
    ...(status ? { status } : {}),
  };
}
