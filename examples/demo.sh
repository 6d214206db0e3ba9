#!/usr/bin/env bash
# `make demo`: the whole lifecycle on a local control plane, narrated.
#  1. the test bed (kube-apiserver, etcd, scheduler, controller-manager, kwok nodes with GPUs)
#  2. the operator, running as a local process against it
#  3. the training program run for real on this CPU, its report handed to the simulated GPU pod
#  4. examples/ applied; TrainingJobs create GPU Jobs, succeed or fail, and register ModelVersions
#  5. the registered version serves (real serving processes on the bed's data plane); a good v2 rolls out
#     as a canary and is promoted, a bad v3 is rolled back by itself
#  6. the loop (examples/demo-loop.sh): drift injected, the DriftMonitor retrains, the new version rolls out
# Leaves nothing running unless MODELOPS_KEEP_TESTBED=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work=.cache/demo
rm -rf "$work" && mkdir -p "$work"
bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
[[ -t 1 ]] || bold='' dim='' off=''
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
say() { printf '    %s\n' "$*"; }
k() { bash test/bed/testbed.sh kubectl "$@"; }
show() { printf '%s$ kubectl %s%s\n' "$dim" "$*" "$off"; k "$@" | sed 's/^/    /'; }
source examples/demo-loop.sh

started_bed=0
operator_pid="" load_pid=""
cleanup() {
  stop_loop
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null || true
  [[ -n "$operator_pid" ]] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null || true
  if ((started_bed)) && [[ "${MODELOPS_KEEP_TESTBED:-0}" != 1 ]]; then bash test/bed/testbed.sh down >/dev/null 2>&1; fi
}
trap cleanup EXIT

step "Local control plane"
bash test/bed/testbed.sh status >/dev/null 2>&1 || started_bed=1
bash test/bed/testbed.sh up 2>&1 | sed 's/^/    /'
eval "$(bash test/bed/testbed.sh env)"
show version
# A previous run's ModelVersions keep their finalizer (its operator is gone): release them, or the namespace
# waits for them forever.
for mv in $(k get mv -n demo -o name 2>/dev/null); do k patch "$mv" -n demo --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null; done
k delete namespace demo --ignore-not-found --wait=true >/dev/null
k delete persistentvolume -l modelops.dev/demo --wait=false >/dev/null
k create namespace demo >/dev/null
# The examples write to pvc://models/...: a statically provisioned volume, as a cluster admin would provide.
pv="demo-models-$(date +%s)"
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: $pv, labels: {modelops.dev/demo: "true"}}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteMany]
  storageClassName: ""
  hostPath: {path: /srv/models}
  claimRef: {namespace: demo, name: models}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: models, namespace: demo}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: $pv
  resources: {requests: {storage: 10Gi}}
YAML

step "CRDs: TrainingJob (tj), ModelVersion (mv), DriftMonitor (dm)"
show apply --server-side -f crds/
k wait --for=condition=Established -f crds/ >/dev/null
# The OpenAPI document that `kubectl explain` reads is published a moment after Established.
for _ in $(seq 60); do k explain trainingjob >/dev/null 2>&1 && break; sleep 0.5; done
show explain trainingjob.spec.gpus

step "Operator (out of cluster, leader election on, logs in $work/operator.log)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port) health_port=$(free_port)
# The bed's Prometheus (exported by `testbed.sh env` when its data plane runs) reaches it by flag, as in a cluster.
node --import tsx operator/src/main.ts --leader-elect --leader-election-namespace=default \
  --metrics-port="$metrics_port" --health-port="$health_port" \
  ${MODELOPS_PROMETHEUS_URL:+--prometheus-url="$MODELOPS_PROMETHEUS_URL"} >"$work/operator.log" 2>&1 &
operator_pid=$!
until curl -sf "localhost:$health_port/readyz" >/dev/null 2>&1; do
  kill -0 "$operator_pid" 2>/dev/null || { cat "$work/operator.log"; exit 1; }
  sleep 0.2
done
say "ready: /readyz says $(curl -s "localhost:$health_port/readyz"); metrics on :$metrics_port"

step "Training for real on this CPU (what the GPU pod would run), to get a genuine report"
MODELOPS_DATASET_URI='synthetic://fraud?rows=20000&seed=7' MODELOPS_DATASET_VERSION=2026-11 \
MODELOPS_OUTPUT_URI="$work/output" MODELOPS_HYPERPARAMETERS='{"epochs": 3}' \
MODELOPS_TERMINATION_MESSAGE_PATH="$work/report.json" PYTHONPATH=training-image \
  /usr/bin/python3 -m modelops_train >"$work/training.log" 2>&1 || { tail -5 "$work/training.log"; exit 1; }
# In the pod the run writes under its output claim's mount: report the paths it would have reported there.
node -e 'const fs = require("fs"); const [file, from, to] = process.argv.slice(1);
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").split(from).join(to));' \
  "$work/report.json" "$work/output" /output/fraud/fraud-train
say "report: $(cat "$work/report.json" | cut -c1-160)…"

# Applies examples/trainingjob-fraud.yaml as NAME, with the simulated pod's outcome as annotations:
# KEY=VALUE, or KEY=@FILE for a file's content (see test/bed/stages.yaml).
apply_fraud_run() {
  node --input-type=module -e '
    import { load, dump } from "js-yaml"; import { readFileSync } from "node:fs";
    const [name, ...pairs] = process.argv.slice(1);
    const tj = load(readFileSync("examples/trainingjob-fraud.yaml", "utf8"));
    if (name !== tj.metadata.name) Object.assign(tj, { metadata: { name } }, { spec: { ...tj.spec, register: { ...tj.spec.register, version: name }, runPolicy: { ...tj.spec.runPolicy, backoffLimit: 0 } } });
    const value = (v) => (v.startsWith("@") ? readFileSync(v.slice(1), "utf8").trim() : v);
    const annotations = Object.fromEntries(pairs.map((p) => [`sim.modelops.dev/${p.slice(0, p.indexOf("="))}`, value(p.slice(p.indexOf("=") + 1))]));
    process.stdout.write(dump({ ...tj, spec: { ...tj.spec, podMetadata: { annotations } } }));' "$@" | k apply -n demo -f - | sed 's/^/    /'
}

step "Apply examples/trainingjob-fraud.yaml (1 × H100, gate val_auc >= 0.9); the simulated pod reports the run above"
apply_fraud_run fraud-train run-for=3s message=@"$work/report.json"
k wait -n demo --for=jsonpath='{.status.phase}'=Running tj/fraud-train --timeout=60s >/dev/null
show get tj,jobs,pods -n demo -o wide
k wait -n demo --for=condition=Ready tj/fraud-train --timeout=60s >/dev/null
show get modelops -n demo
show get tj fraud-train -n demo -o jsonpath='{.status.metrics}{"\n"}'

step "A run that dies of OOM, and one whose metrics miss the gate"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); r.metrics.val_auc = 0.71; process.stdout.write(JSON.stringify(r));' \
  "$work/report.json" >"$work/weak-report.json"
apply_fraud_run fraud-oom outcome=fail exit-code=137 reason=OOMKilled
apply_fraud_run fraud-weak message=@"$work/weak-report.json"
k wait -n demo --for=jsonpath='{.status.phase}'=Failed tj/fraud-oom --timeout=60s >/dev/null
k wait -n demo --for=condition=Registered=false tj/fraud-weak --timeout=60s >/dev/null
show get tj -n demo
show get events -n demo --field-selector involvedObject.kind=TrainingJob -o custom-columns=OBJECT:.involvedObject.name,TYPE:.type,REASON:.reason,MESSAGE:.message

step "The registered ModelVersion carries its lineage; a DriftMonitor watches the model"
show get mv fraud-v1 -n demo -o jsonpath='{.spec.lineage}{"\n"}'
show apply -n demo -f examples/driftmonitor-fraud.yaml
show describe tj fraud-weak -n demo

# ---- ModelVersion: serving and canaries (needs the bed's data plane) ----------------------------------
# fraud-v1 (registered by the training run above) serves; a good v2 is promoted, a bad v3 rolled back.
# Leaves v2 serving and the clients' load running ($load_pid) for the sections after it.
demo_modelversion() {
  # The run wrote its model here; in a cluster the pod writes it to the claim. Put it where the bed keeps
  # the claim's files (v2 is the same network retrained: here, the same file; v3 is v2 with a fault).
  claim="$MODELOPS_TESTBED_VOLUMES/demo/models/fraud"
  for v in fraud-train v2 v3; do mkdir -p "$claim/$v" && cp "$work/output/model.onnx" "$work/output/reference.json" "$claim/$v/"; done

  step "fraud-v1 serves: its Deployment's pods run the serving image, the model's Service sends them everything"
  k wait -n demo --for=condition=Ready mv/fraud-v1 --timeout=120s >/dev/null
  show get modelops -n demo
  show get mv fraud-v1 -n demo -o jsonpath='{.status.url}{"\n"}'
  node --import tsx test/harness/load-cli.ts --service demo/fraud --model fraud --rate 30 --seconds 600 \
    --reference "$work/output/reference.json" >"$work/load.log" 2>&1 &
  load_pid=$!
  say "clients: 30 requests/s to the model's Service (the harness's load driver, logging to $work/load.log)"

  # Applies examples/modelversion-fraud-v2.yaml as version VERSION, with the demo's short steps and analysis
  # (5 s pauses, an analysis every 5 s over 10 s) and ENV=VALUE pairs for the serving container.
  apply_version() {
    node --input-type=module -e '
      import { load, dump } from "js-yaml"; import { readFileSync } from "node:fs";
      const [version, ...env] = process.argv.slice(1);
      const mv = load(readFileSync("examples/modelversion-fraud-v2.yaml", "utf8"));
      mv.metadata.name = `fraud-${version}`;
      Object.assign(mv.spec, { version, artifact: { uri: `pvc://models/fraud/${version}/model.onnx` }, reference: { uri: `pvc://models/fraud/${version}/reference.json` } });
      mv.spec.serving.env = env.map((p) => ({ name: p.split("=")[0], value: p.split("=")[1] }));
      mv.spec.serving.rollout.steps = [20, 50, 100].map((weight) => ({ weight, pauseSeconds: 5 }));
      Object.assign(mv.spec.serving.rollout.analysis, { intervalSeconds: 5, windowSeconds: 10, minSamples: 20, failureLimit: 1 });
      process.stdout.write(dump(mv));' "$@" | k apply -n demo -f - | sed 's/^/    /'
  }
  # Shows `kubectl get modelops` each time the canary's step or phase changes, until it settles.
  follow() {
    local last="" now
    for _ in $(seq 600); do
      now=$(k get mv "$1" -n demo -o jsonpath='{.status.phase}/{.status.rollout.step}/{.status.weight}' 2>/dev/null)
      if [[ "$now" != "$last" ]]; then show get modelops -n demo; last=$now; fi
      [[ "$now" == Serving/* || "$now" == RolledBack/* ]] && return
      sleep 1
    done
  }

  step "fraud-v2, a good version, rolls out as a canary: 20 → 50 → 100 %, analysed every 5 s against v1"
  apply_version v2
  follow fraud-v2
  k wait -n demo --for=condition=Promoted mv/fraud-v2 --timeout=10s >/dev/null
  show get mv fraud-v2 -n demo -o jsonpath='{range .status.conditions[?(@.type=="Promoted")]}{.message}{"\n"}{end}'

  step "fraud-v3 answers half its requests with 500s: rolled back by itself, all traffic back on v2"
  apply_version v3 MODELOPS_FAULT_ERROR_RATE=0.5
  follow fraud-v3
  k wait -n demo --for=condition=RolledBack mv/fraud-v3 --timeout=10s >/dev/null
  show get events -n demo --field-selector involvedObject.name=fraud-v3,reason=RolledBack -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message
  show get mv fraud-v3 -n demo -o jsonpath='{range .status.conditions[?(@.type=="RolledBack")]}{.message}{"\n"}{end}'
  say "worst case for this analysis: a breach unseen for at most 5 s × 1 failure + 10 s window = 15 s (status.worstCaseDetectionSeconds while it is a canary)"
}

if [[ -z "${MODELOPS_PROMETHEUS_URL:-}" ]]; then
  step "Serving and canaries need the bed's data plane (another bed on this machine has it): skipped"
else
  demo_modelversion
fi
if [[ -n "$load_pid" ]]; then
  kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null || true; load_pid=""
  say "what the clients saw: $(grep -v '^ *$' "$work/load.log" | tail -1)"

  demo_drift_loop
fi

step "The DriftMonitor's latest evaluation: what it watches, or why it cannot judge yet"
k wait -n demo --for=jsonpath='{.status.observedGeneration}'="$(k get dm fraud-drift -n demo -o jsonpath='{.metadata.generation}')" \
  dm/fraud-drift --timeout=30s >/dev/null
show get dm fraud-drift -n demo -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
show get modelops -n demo

step "Operator metrics (controller-runtime names)"
curl -s "localhost:$metrics_port/metrics" | grep -E '^controller_runtime_reconcile_total' | sed 's/^/    /'
step "Done"
