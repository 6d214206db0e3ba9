// The operator's built-in default serving image and the Helm chart's are one release's image.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { DEFAULT_SERVING_IMAGE } from './index.js';

test("the default serving image is the chart's, tagged with the chart's appVersion", () => {
  const values = load(readFileSync('charts/modelops/values.yaml', 'utf8')) as { operator: { servingImage: string } };
  const chart = load(readFileSync('charts/modelops/Chart.yaml', 'utf8')) as { appVersion: string };
  expect(DEFAULT_SERVING_IMAGE).toBe(values.operator.servingImage);
  expect(DEFAULT_SERVING_IMAGE).toBe(`ghcr.io/modelops/serving:${chart.appVersion}`);
});
