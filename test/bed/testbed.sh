#!/usr/bin/env bash
# The modelops test bed: a real kube-apiserver + etcd + kube-controller-manager + kube-scheduler,
# with kwok simulating nodes (CPU and NVIDIA GPU) and pod outcomes, all as local processes.
#
#   testbed.sh up                 build (or reuse) the binaries, start the cluster, register the nodes
#   testbed.sh down               stop everything and delete the cluster's state
#   testbed.sh status             is it up? prints the kubeconfig path
#   testbed.sh restart-apiserver  stop and start the kube-apiserver (tests of watch resumption)
#   testbed.sh env                print `export` lines for KUBECONFIG and PATH (eval "$(testbed.sh env)")
#   testbed.sh kubectl ARGS...    the matching kubectl against the bed
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cluster="${MODELOPS_TESTBED_NAME:-modelops}"
export KWOK_WORKDIR="${MODELOPS_TESTBED_WORKDIR:-$root/.cache/testbed/run}"
kubeconfig="$KWOK_WORKDIR/kubeconfig"
cluster_dir="$KWOK_WORKDIR/clusters/$cluster"

log() { printf '[testbed] %s\n' "$*" >&2; }
bin_dir=""
bin() { echo "$bin_dir"; }
ensure_built() { [[ -n "$bin_dir" ]] || bin_dir="$(bash "$here/build.sh" | tail -n 1)"; }
kwokctl() { "$(bin)/kwokctl" --name "$cluster" -v WARN "$@"; }
kubectl() { "$(bin)/kubectl" --kubeconfig "$kubeconfig" "$@"; }

is_up() { [[ -f "$kubeconfig" ]] && kubectl get --raw /readyz >/dev/null 2>&1; }

up() {
  local b; b="$(bin)"
  # kwokctl picks its components' ports when it creates or starts a cluster: two beds doing that at once
  # (two worktrees, say) can pick the same ones. One `up` at a time on this machine; the components
  # kwokctl leaves running must not inherit the lock (9>&-).
  exec 9>"${TMPDIR:-/tmp}/modelops-testbed-up.lock"
  flock 9
  # The simulation (stages) and versions are fixed when a cluster is created: recreate on a change.
  local config_hash; config_hash="$(cat "$here"/versions.env "$here"/node-stages.yaml "$here"/stages.yaml | sha256sum | cut -c1-16)"
  local created_with; created_with="$(cat "$cluster_dir/modelops-config" 2>/dev/null || true)"
  if is_up && [[ "$created_with" == "$config_hash" ]]; then log "already up (kubeconfig: $kubeconfig)"; return 0; fi
  if [[ -d "$cluster_dir" && "$created_with" != "$config_hash" ]]; then
    log "the bed's configuration changed; recreating it"
    down
  fi
  if [[ -d "$cluster_dir" ]]; then
    log "starting the existing cluster"
    kwokctl start cluster --timeout 2m >&2 9>&- || { log "restart failed; recreating"; down; }
  fi
  if [[ ! -d "$cluster_dir" ]]; then
    local start=$SECONDS
    log "creating cluster '$cluster' (kube-apiserver $("$b/kube-apiserver" --version | cut -d' ' -f2), etcd, kwok)"
    mkdir -p "$KWOK_WORKDIR"
    kwokctl create cluster --runtime binary --kubeconfig "$kubeconfig" \
      --config "$here/node-stages.yaml" --config "$here/stages.yaml" \
      --kube-apiserver-binary "$b/kube-apiserver" \
      --kube-controller-manager-binary "$b/kube-controller-manager" \
      --kube-scheduler-binary "$b/kube-scheduler" \
      --kwok-controller-binary "$b/kwok" \
      --etcd-binary "$b/etcd" \
      `# Nothing restarts a component here the way a kubelet would: without leader election they` \
      `# ride out a kube-apiserver restart instead of exiting when their lease lapses.` \
      --extra-args kube-controller-manager=leader-elect=false \
      --extra-args kube-scheduler=leader-elect=false \
      --wait 2m >&2 9>&-
    echo "$config_hash" >"$cluster_dir/modelops-config"
    log "control plane up in $((SECONDS - start))s"
  fi
  log "registering simulated nodes"
  kubectl apply -f "$here/nodes.yaml" >/dev/null
  kubectl wait --for=condition=Ready node --all --timeout=60s >/dev/null
  kubectl get nodes -L nvidia.com/gpu.product -L nvidia.com/gpu.count >&2
  log "ready: export KUBECONFIG=$kubeconfig"
}

down() {
  ensure_built
  [[ -d "$cluster_dir" ]] || { log "not created"; return 0; }
  log "deleting cluster '$cluster'"
  kwokctl delete cluster >&2 || true
  # kwokctl stops what it started, but a kube-apiserver restarted by hand, or one whose etcd is
  # already gone, can outlive it (its graceful shutdown waits on etcd): nothing of this bed may stay.
  local pattern="$KWOK_WORKDIR/clusters/$cluster/" deadline=$((SECONDS + 5))
  pkill -f -- "$pattern" 2>/dev/null || true
  while pgrep -f -- "$pattern" >/dev/null; do
    if ((SECONDS >= deadline)); then pkill -9 -f -- "$pattern" 2>/dev/null || true; fi
    sleep 0.2
  done
  rm -f "$kubeconfig"
}

# kwokctl restarts only whole clusters, so the kube-apiserver is restarted by hand: the same
# command line, working directory, log file and pid file that kwokctl gave it.
restart_apiserver() {
  local pidfile="$cluster_dir/pids/kube-apiserver.pid" pid cmd=()
  pid="$(cat "$pidfile")"
  mapfile -d '' cmd <"/proc/$pid/cmdline"
  log "restarting kube-apiserver (pid $pid)"
  # Its graceful shutdown waits up to a minute for open watches; give it two seconds, then kill it.
  kill "$pid"
  local grace=$((SECONDS + 2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < grace)) || kill -9 "$pid" 2>/dev/null || true
    sleep 0.1
  done
  # exec: the pid recorded is the kube-apiserver itself, and no shell holds our output open.
  (cd "$cluster_dir" && exec setsid "${cmd[@]}" >>"$cluster_dir/logs/kube-apiserver.log" 2>&1 </dev/null) &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + 60))
  until kubectl get --raw /readyz >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "kube-apiserver did not come back"; exit 1; }
    sleep 0.2
  done
  log "kube-apiserver is back (pid $(cat "$pidfile"))"
}

case "${1:-}" in
  up|status|restart-apiserver|env|kubectl) ensure_built ;;
esac
case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if is_up; then echo "up: $kubeconfig"; else echo "down"; exit 1; fi ;;
  restart-apiserver) restart_apiserver ;;
  env) printf 'export KUBECONFIG=%q\nexport PATH=%q:"$PATH"\n' "$kubeconfig" "$(bin)" ;;
  kubectl) shift; kubectl "$@" ;;
  -h|--help|"") sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) log "unknown command: $1"; exit 2 ;;
esac
