// The load driver from a shell (the demo, a person at the bed), after eval "$(bash test/bed/testbed.sh env)":
//   node --import tsx test/harness/load-cli.ts --service demo/fraud --model fraud --rate 20 --seconds 30
//   node --import tsx test/harness/load-cli.ts --httproute demo/fraud --model fraud --shift v1=3,v2=3
//   node --import tsx test/harness/load-cli.ts --service demo/fraud --model fraud --csv world.csv
// Prints what each version answered every 5 s and at the end. --httproute routes as a gateway would
// (an imitation: see gateway.ts).
import { parseArgs } from 'node:util';
import { csvRows, loadReference, referenceRows } from './inputs.js';
import { percentages, startLoad, type LoadReport, type LoadTarget } from './load.js';
import { FIXTURE_REFERENCE } from './serving.js';

const { values } = parseArgs({
  options: {
    service: { type: 'string' },
    httproute: { type: 'string' },
    model: { type: 'string' },
    reference: { type: 'string', default: FIXTURE_REFERENCE },
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    shift: { type: 'string', default: '' },
    // Rows of a data set (python3 -m modelops_train.data writes one) instead of the reference's bins.
    csv: { type: 'string' },
    header: { type: 'string', multiple: true, default: [] },
  },
});

function target(): LoadTarget {
  const [namespace, name] = (values.service ?? values.httproute ?? '').split('/');
  if (!namespace || !name) throw new Error('give --service NAMESPACE/NAME or --httproute NAMESPACE/NAME');
  return values.service ? { service: name, namespace } : { httpRoute: name, namespace };
}

function summary(report: LoadReport): string {
  const versions = Object.entries(percentages(report.byVersion)).map(([v, p]) => `${v} ${p.toFixed(1)} %`);
  return `${report.requests} requests: ${versions.join(', ') || 'no answers'}; codes ${JSON.stringify(report.byCode)}`;
}

const reference = loadReference(values.reference!);
const shift = Object.fromEntries(
  values
    .shift!.split(',')
    .filter(Boolean)
    .map((pair) => [pair.split('=')[0]!, Number(pair.split('=')[1])]),
);
const headers = Object.fromEntries(
  values.header!.map((h) => [h.split(':')[0]!.trim(), h.slice(h.indexOf(':') + 1).trim()]),
);
if (!values.model) throw new Error('--model is required');
const run = startLoad({
  target: target(),
  model: values.model,
  inputName: reference.input.name,
  rows: values.csv
    ? csvRows(
        values.csv,
        reference.features.map((f) => f.name),
        { seed: Date.now() },
      )
    : referenceRows(reference, { shift, seed: Date.now() }),
  ratePerSecond: Number(values.rate),
  headers,
});
const ticker = setInterval(() => console.log(summary(run.report())), 5000);
setTimeout(
  () => {
    clearInterval(ticker);
    void run.stop().then((report) => console.log(`done: ${summary(report)}`));
  },
  Number(values.seconds) * 1000,
);
