# The closed loop, for examples/demo.sh (sourced; uses its step/say/k/show/follow and $work): the world the
# fraud model serves moves; the DriftMonitor finds it, starts one retraining run on fresh data, the run trains
# for real on this CPU (test/harness/training.ts stands in for the GPU node), beats the stable version at its
# gate and registers a new version, which rolls out as a canary and is promoted. Needs the bed's data plane.
loop_pids=()
stop_loop() {
  local pid
  for pid in "${loop_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  loop_pids=()
}

demo_drift_loop() {
  local started=$SECONDS run=fraud-drift-retrain-1 version=fraud-fraud-drift-retrain-1
  step "The loop: the world moves, fraud-drift finds it, retrains, and the new version rolls out"
  node --import tsx test/harness/training-cli.ts --namespace demo >"$work/training-runner.log" 2>&1 &
  loop_pids+=($!)
  say "the training runner trains this namespace's retraining pods for real (log: $work/training-runner.log)"
  # The demo's monitor evaluates every 10 s over 60 s, and its retraining runs train for real, on data from
  # the world as it is now (the synthetic generator moved by one standard deviation), with a short rollout.
  k patch dm fraud-drift -n demo --type=merge -p "$(
    cat <<'JSON'
{"spec": {"intervalSeconds": 10, "windowSeconds": 60, "minSamples": 500, "actions": {"retrain": {"template": {
  "dataset": {"uri": "synthetic://fraud?rows=20000&seed=2&shift=1", "version": "moved"},
  "hyperparameters": {"epochs": "3", "batch_size": "256", "hidden": "64"},
  "podMetadata": {"annotations": {"sim.modelops.dev/runner": "training-image", "sim.modelops.dev/outcome": "run"}},
  "register": {"serving": {"replicas": 1, "rollout": {
    "steps": [{"weight": 50, "pauseSeconds": 5}, {"weight": 100, "pauseSeconds": 5}],
    "analysis": {"intervalSeconds": 5, "windowSeconds": 10, "minSamples": 20, "failureLimit": 2,
                 "latencyP99": {"maxRatioToStable": 4}, "predictionShift": {"enabled": false}}}}}}}}}}
JSON
  )" | sed 's/^/    /'
  PYTHONPATH=training-image /usr/bin/python3 -m modelops_train.data --rows 4000 --seed 22 --shift 1 \
    --out "$work/moved-world.csv" >/dev/null
  node --import tsx test/harness/load-cli.ts --service demo/fraud --model fraud --rate 30 --seconds 900 \
    --csv "$work/moved-world.csv" >"$work/load-moved.log" 2>&1 &
  loop_pids+=($!)
  say "drift injected: clients now send transactions from the moved world, 30 requests/s"

  k wait -n demo --for=jsonpath='{.status.phase}'=Critical dm/fraud-drift --timeout=180s >/dev/null
  say "after $((SECONDS - started)) s:"
  show get dm fraud-drift -n demo -o jsonpath='{.status.summary}{"\n"}'
  k wait -n demo --for=create "tj/$run" --timeout=60s >/dev/null
  show get events -n demo --field-selector involvedObject.name=fraud-drift -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message
  show get modelops -n demo

  k wait -n demo --for=condition=Registered "tj/$run" --timeout=300s >/dev/null
  say "after $((SECONDS - started)) s: the run trained for real and passed its gate"
  show get tj "$run" -n demo -o jsonpath='{.status.gateMessage}{"\n"}'
  show get mv "$version" -n demo -o jsonpath='{.spec.lineage}{"\n"}'

  step "$version rolls out as a canary against fraud-v2, and is promoted"
  follow "$version"
  k wait -n demo --for=condition=Promoted "mv/$version" --timeout=10s >/dev/null
  say "after $((SECONDS - started)) s: promoted"
  # The monitor now judges the new stable version against its own training reference.
  k wait -n demo --for=jsonpath='{.status.phase}'=Healthy dm/fraud-drift --timeout=120s >/dev/null
  show get dm fraud-drift -n demo -o jsonpath='{.status.summary}{"\n"}{range .status.actions[*]}{.type} {.trainingJob} → {.modelVersion}: {.outcome}{"\n"}{end}'
  printf '%s$ kubectl get events -n demo --sort-by=.metadata.creationTimestamp | grep the loop%s\n' "$dim" "$off"
  k get events -n demo --sort-by=.metadata.creationTimestamp -o custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message |
    grep -E "^(fraud-drift|$run|$version) " | grep -v StepAdvanced | cut -c1-200 | sed 's/^/    /'
  stop_loop
  say "the loop took $((SECONDS - started)) s from the drift to the new stable judged healthy"
}
