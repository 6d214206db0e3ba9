// Runs an ONNX model in onnxruntime-node on the rows of a predictions_check.json and prints the
// probabilities as JSON. A separate process because inside jest's VM realm onnxruntime rejects its own
// output tensors (their Float32Array comes from Node's main realm, not the test's).
// Usage: node onnx-predict.mjs model.onnx predictions_check.json
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';

const [modelPath, checkPath] = process.argv.slice(2);
const check = JSON.parse(await readFile(checkPath, 'utf8'));
const session = await ort.InferenceSession.create(modelPath);
const rows = check.features.length;
const width = check.features[0].length;
const input = new ort.Tensor('float32', Float32Array.from(check.features.flat()), [rows, width]);
const output = (await session.run({ [check.input]: input }))[check.output];
console.log(JSON.stringify({
  inputNames: session.inputNames,
  outputNames: session.outputNames,
  dims: output.dims,
  probabilities: Array.from(output.data),
}));
await session.release();
