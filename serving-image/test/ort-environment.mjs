// Jest runs each test file in its own realm, but onnxruntime-node's native binding hands back typed arrays from
// Node's main realm, and onnxruntime-common then fails its `instanceof Float32Array` checks. Sharing the main
// realm's typed-array constructors with the test realm makes both sides agree.
import { createRequire } from 'node:module';
import { TestEnvironment } from 'jest-environment-node';

const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
  'ArrayBuffer',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

// Under mutation testing (a Stryker worker), Stryker's mixin tells it which test covers which mutant.
export default process.env.STRYKER_MUTATOR_WORKER
  ? createRequire(import.meta.url)('@stryker-mutator/jest-runner').mixinJestEnvironment(OrtEnvironment)
  : OrtEnvironment;
