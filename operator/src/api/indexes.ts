// Cache indexes over the modelops resources. Declared here, once, so that every controller asking for
// one shares it (the runtime refuses two different functions under one name).
import { byField, type IndexSpec } from '../runtime/index.js';
import { resources } from './resources.js';

/** ModelVersions by spec.model: `cache.list(MV, { namespace, index: { name: MODEL_INDEX, value: model } })`. */
export const MODEL_INDEX = 'spec.model';
export const modelVersionsByModel: IndexSpec = {
  resource: resources.ModelVersion,
  name: MODEL_INDEX,
  keys: byField('spec.model'),
};
