#!/usr/bin/env bash
# The modelops test bed: a real kube-apiserver + etcd + kube-controller-manager + kube-scheduler,
# with kwok simulating nodes (CPU and NVIDIA GPU) and pod outcomes, all as local processes, and the
# Gateway API CRDs. Its data plane (on unless MODELOPS_TESTBED_DATAPLANE=off) runs serving pods for real:
# kube-proxy (nftables) routes Services, Prometheus scrapes the pods, and a runner starts the serving image
# for each pod labelled app.kubernetes.io/name=modelops-serving, listening on the pod's IP.
# The data plane uses machine-wide things (loopback addresses, kube-proxy's nftables tables, local routes
# for the pod and service ranges): one bed per machine may have it; others come up without it.
#
#   testbed.sh up                 build (or reuse) the binaries, start the cluster, register the nodes
#   testbed.sh down               stop everything and delete the cluster's state
#   testbed.sh status             is it up? prints the kubeconfig path
#   testbed.sh restart-apiserver [FLAG...]
#                                 stop and start the kube-apiserver (tests of watch resumption); FLAGs are
#                                 added for this start only (--runtime-config=resource.k8s.io/v1=false: a
#                                 cluster without DRA); without FLAGs it runs as the cluster was created
#   testbed.sh restart-controller-manager, restart-scheduler [FLAG...]   the same for those
#   testbed.sh restart-kube-proxy the same for the data plane's kube-proxy
#   testbed.sh env                print `export` lines for KUBECONFIG, PATH and, with the data plane,
#                                 MODELOPS_PROMETHEUS_URL, MODELOPS_TESTBED_VOLUMES (the PVCs' directories)
#                                 and MODELOPS_TESTBED_SERVING (the runner's state and logs): eval "$(testbed.sh env)"
#   testbed.sh kubectl ARGS...    the matching kubectl against the bed
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cluster="${MODELOPS_TESTBED_NAME:-modelops}"
export KWOK_WORKDIR="${MODELOPS_TESTBED_WORKDIR:-$root/.cache/testbed/run}"
kubeconfig="$KWOK_WORKDIR/kubeconfig"
cluster_dir="$KWOK_WORKDIR/clusters/$cluster"
dataplane="${MODELOPS_TESTBED_DATAPLANE:-on}"
[[ "$dataplane" == on || "$dataplane" == off ]] || { echo "MODELOPS_TESTBED_DATAPLANE must be on or off" >&2; exit 2; }
# kwok's pod IP pool (its default) and the Services' range, kept apart: kube-proxy drops traffic to
# addresses in the service range that no Service holds.
pod_cidr=10.0.0.0/24
service_cidr=10.96.0.0/16
# Which bed on this machine holds the data plane (its cluster directory).
dataplane_owner_file="${MODELOPS_DATAPLANE_OWNER_FILE:-/tmp/modelops-testbed-dataplane.owner}"
serving_dir="$cluster_dir/serving"

log() { printf '[testbed] %s\n' "$*" >&2; }
bin_dir=""
bin() { echo "$bin_dir"; }
prometheus_bin="" gateway_crds=""
ensure_built() {
  [[ -n "$bin_dir" ]] && return 0
  bin_dir="$(bash "$here/build.sh" | tail -n 1)"
  eval "$(bash "$here/build.sh" paths | grep -E '^(prometheus|gateway_crds)=')"
  prometheus_bin="$prometheus" gateway_crds="$gateway_crds"
}
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
  local config_hash
  config_hash="$( (cat "$here"/versions.env "$here"/node-stages.yaml "$here"/stages.yaml; echo "dataplane=$dataplane") | sha256sum | cut -c1-16)"
  local created_with; created_with="$(cat "$cluster_dir/modelops-config" 2>/dev/null || true)"
  if is_up && [[ "$created_with" == "$config_hash" ]]; then
    log "already up (kubeconfig: $kubeconfig)"
    finish_up
    return 0
  fi
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
    [[ "$dataplane" == on ]] && claim_dataplane
    local stages="$KWOK_WORKDIR/$cluster-stages.yaml" run_for_real=false
    [[ "$dataplane" == on ]] && run_for_real=true
    sed "s/@SERVING_PODS_RUN_FOR_REAL@/$run_for_real/" "$here/stages.yaml" >"$stages"
    kwokctl create cluster --runtime binary --kubeconfig "$kubeconfig" \
      --config "$here/node-stages.yaml" --config "$stages" \
      --kube-apiserver-binary "$b/kube-apiserver" \
      --kube-controller-manager-binary "$b/kube-controller-manager" \
      --kube-scheduler-binary "$b/kube-scheduler" \
      --kwok-controller-binary "$b/kwok" \
      --etcd-binary "$b/etcd" \
      `# Nothing restarts a component here the way a kubelet would: without leader election they` \
      `# ride out a kube-apiserver restart instead of exiting when their lease lapses.` \
      --extra-args kube-controller-manager=leader-elect=false \
      --extra-args kube-scheduler=leader-elect=false \
      --extra-args "kube-apiserver=service-cluster-ip-range=$service_cidr" \
      --wait 2m >&2 9>&-
    echo "$config_hash" >"$cluster_dir/modelops-config"
    log "control plane up in $((SECONDS - start))s"
  fi
  log "registering simulated nodes"
  kubectl apply -f "$here/nodes.yaml" >/dev/null
  kubectl wait --for=condition=Ready node --all --timeout=60s >/dev/null
  kubectl get nodes -L nvidia.com/gpu.product -L nvidia.com/gpu.count >&2
  finish_up
}

# What every `up` (re)checks, also on a bed that is already up: each step is idempotent.
finish_up() {
  install_gateway_api
  if [[ "$dataplane" == on ]]; then dataplane_up; else log "data plane off: serving pods are simulated"; fi
  log "ready: eval \"\$(bash test/bed/testbed.sh env)\""
}

# The standard channel's CRDs, then the bed's GatewayClass and Gateway, marked as their controller would.
install_gateway_api() {
  local installed
  installed="$(kubectl get crd httproutes.gateway.networking.k8s.io 2>/dev/null \
    -o jsonpath='{.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}' || true)"
  if [[ "$installed" == "v$GATEWAY_API_VERSION" ]] && kubectl get gateway testbed -n gateway >/dev/null 2>&1; then return 0; fi
  kubectl apply --server-side --force-conflicts -f "$gateway_crds" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s \
    crd/{gatewayclasses,gateways,httproutes,referencegrants}.gateway.networking.k8s.io >/dev/null
  kubectl apply --server-side -f "$here/gateway.yaml" >/dev/null
  local now; now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  conditions() { # type...
    local out="" t
    for t in "$@"; do out+="${out:+,}{\"type\":\"$t\",\"status\":\"True\",\"reason\":\"$t\",\"message\":\"the test bed's imitation gateway\",\"lastTransitionTime\":\"$now\",\"observedGeneration\":1}"; done
    echo "{\"status\":{\"conditions\":[$out]}}"
  }
  kubectl patch gatewayclass testbed --subresource=status --type=merge -p "$(conditions Accepted)" >/dev/null
  kubectl patch gateway testbed -n gateway --subresource=status --type=merge -p "$(conditions Accepted Programmed)" >/dev/null
  log "Gateway API $GATEWAY_API_VERSION CRDs installed; GatewayClass testbed, Gateway gateway/testbed"
}

# ---- data plane -------------------------------------------------------------------------------------

pidfile() { echo "$cluster_dir/pids/$1.pid"; }
running() { local pid; pid="$(cat "$(pidfile "$1")" 2>/dev/null)" && kill -0 "$pid" 2>/dev/null; }

# name command... — started in its own session, logging to logs/NAME.log, unless already running.
start_daemon() {
  local name=$1; shift
  running "$name" && return 0
  mkdir -p "$cluster_dir/pids" "$cluster_dir/logs"
  # (9>&-: the daemon must not hold `up`'s machine-wide lock.)
  (exec setsid "$@" >>"$cluster_dir/logs/$name.log" 2>&1 </dev/null 9>&-) &
  echo $! >"$(pidfile "$name")"
}

# name seconds what command... — waits until the command succeeds; fails with the daemon's log tail.
wait_until() {
  local name=$1 seconds=$2 what=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! running "$name" || ((SECONDS >= deadline)); then
      log "$name: $what did not happen; the end of $cluster_dir/logs/$name.log:"
      tail -n 20 "$cluster_dir/logs/$name.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

free_port() { # preferred
  python3 -c 'import socket, sys
for port in (int(sys.argv[1]), 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); print(s.getsockname()[1]); break
    except OSError:
        pass' "$1"
}

# dir — whether any data-plane daemon of the bed at dir still runs.
dataplane_alive() {
  local name pid
  for name in dataplane prometheus kube-proxy; do
    pid="$(cat "$1/pids/$name.pid" 2>/dev/null)" && kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

claim_dataplane() {
  local owner; owner="$(cat "$dataplane_owner_file" 2>/dev/null || true)"
  if [[ -n "$owner" && "$owner" != "$cluster_dir" ]] && ! dataplane_alive "$owner"; then
    # A bed killed without `down` (a machine reboot, a killed session) must not block every later bed.
    log "the data plane of the bed at $owner no longer runs: removing what it left and taking it over"
    pkill -KILL -f -- "--modelops-bed=$owner\$" 2>/dev/null || true # its orphaned serving processes
    remove_dataplane_leftovers
    owner=""
  fi
  if [[ -n "$owner" && "$owner" != "$cluster_dir" && -d "$owner" ]]; then
    log "the data plane of this machine belongs to the bed at $owner (loopback addresses, nftables and"
    log "kube-proxy exist once per machine). Stop that bed, or start this one with MODELOPS_TESTBED_DATAPLANE=off."
    exit 1
  fi
  echo "$cluster_dir" >"$dataplane_owner_file"
}

dataplane_up() {
  claim_dataplane
  echo on >"$cluster_dir/modelops-dataplane"
  # Nothing sent to a pod or Service address may leave the machine: both ranges are local, so an address
  # without a listener (a pod gone, a Service kube-proxy has not programmed yet) refuses at once.
  ip -4 route replace local "$pod_cidr" dev lo table local
  ip -4 route replace local "$service_cidr" dev lo table local
  start_kube_proxy
  start_prometheus
  start_serving_pods
}

start_kube_proxy() {
  local healthz metrics
  if ! running kube-proxy; then
    healthz="$(free_port 10256)" metrics="$(free_port 10249)"
    echo "$healthz" >"$cluster_dir/kube-proxy.healthz-port"
    start_daemon kube-proxy "$(bin)/kube-proxy" --kubeconfig "$kubeconfig" --proxy-mode=nftables \
      --hostname-override=cpu-0 --bind-address=127.0.0.1 --cluster-cidr="$pod_cidr" \
      --healthz-bind-address="127.0.0.1:$healthz" --metrics-bind-address="127.0.0.1:$metrics" \
      `# A container cannot set the conntrack sysctls; the machine's defaults are fine for tests.` \
      --conntrack-max-per-core=0 --nodeport-addresses=primary
  fi
  healthz="$(cat "$cluster_dir/kube-proxy.healthz-port")"
  wait_until kube-proxy 60 "its first sync of the Services (healthz)" curl -sf "http://127.0.0.1:$healthz/healthz"
  log "kube-proxy (nftables) routes Services ($service_cidr) to pods ($pod_cidr)"
}

start_prometheus() {
  local dir="$cluster_dir/prometheus" port
  if ! running prometheus; then
    mkdir -p "$dir"
    port="$(free_port "${MODELOPS_PROMETHEUS_PORT:-9090}")"
    echo "http://127.0.0.1:$port" >"$dir/url"
    sed "s|@KUBECONFIG@|$kubeconfig|" "$here/prometheus.yml" >"$dir/prometheus.yml"
    start_daemon prometheus "$prometheus_bin" --config.file="$dir/prometheus.yml" \
      --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=1d \
      --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle
  fi
  wait_until prometheus 60 "ready" curl -sf "$(cat "$dir/url")/-/ready"
  log "prometheus $PROMETHEUS_VERSION at $(cat "$dir/url") (1 s scrape interval)"
}

start_serving_pods() {
  mkdir -p "$serving_dir/volumes"
  if ! running dataplane; then
    rm -f "$serving_dir/pods.json" # written by the agent once it watches the pods
    start_daemon dataplane node --import tsx "$root/test/bed/dataplane/main.ts" --kubeconfig "$kubeconfig" \
      --state-dir "$serving_dir" --volumes "$serving_dir/volumes" --marker "$cluster_dir"
  fi
  wait_until dataplane 120 "watching serving pods" test -f "$serving_dir/pods.json"
  log "serving pods run for real (logs: $serving_dir/logs, volumes: $serving_dir/volumes/NAMESPACE/CLAIM)"
}

# Stops what dataplane_up started and removes every machine-wide thing it added, even after a crash.
dataplane_down() {
  local owner; owner="$(cat "$dataplane_owner_file" 2>/dev/null || true)"
  [[ "$owner" == "$cluster_dir" || -f "$cluster_dir/modelops-dataplane" ]] || return 0
  [[ -z "$owner" || "$owner" == "$cluster_dir" ]] || { log "the data plane belongs to $owner: left alone"; return 0; }
  local name
  # The agent first: it stops the serving processes and removes their addresses.
  for name in dataplane prometheus kube-proxy; do stop_daemon "$name"; done
  pkill -KILL -f -- "--modelops-bed=$cluster_dir\$" 2>/dev/null || true # a crashed agent's orphans
  remove_dataplane_leftovers
  rm -f "$cluster_dir/modelops-dataplane"
  log "data plane removed (kube-proxy's nftables tables, loopback addresses, local routes)"
}

# The machine-wide state a data plane adds; safe to run when none of it exists.
remove_dataplane_leftovers() {
  local table address
  for table in "ip kube-proxy" "ip6 kube-proxy"; do nft delete table $table 2>/dev/null || true; done
  for address in $(ip -o -4 addr show dev lo label lo:modelops | awk '{print $4}'); do ip addr del "$address" dev lo; done
  ip -4 route del local "$pod_cidr" dev lo table local 2>/dev/null || true
  ip -4 route del local "$service_cidr" dev lo table local 2>/dev/null || true
  rm -f "$dataplane_owner_file"
}

stop_daemon() { # name — SIGTERM, then SIGKILL after 10 s
  local pid; pid="$(cat "$(pidfile "$1")" 2>/dev/null)" || return 0
  kill "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || kill -9 "$pid" 2>/dev/null || true
    sleep 0.1
  done
}

down() {
  ensure_built
  dataplane_down
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

# kwokctl restarts only whole clusters, so a component is restarted by hand: the same command line
# (as kwokctl first gave it, kept aside on the first restart), working directory, log file and pid
# file, plus the extra flags given (for this start only).
restart_component() {
  local name=$1; shift
  local pidfile="$cluster_dir/pids/$name.pid" cmdfile="$cluster_dir/$name.cmdline" pid cmd=()
  pid="$(cat "$pidfile")"
  [[ -f "$cmdfile" ]] || cp "/proc/$pid/cmdline" "$cmdfile"
  mapfile -d '' cmd <"$cmdfile"
  cmd+=("$@")
  log "restarting $name (pid $pid)${*:+ with $*}"
  # A kube-apiserver's graceful shutdown waits up to a minute for open watches; give two seconds, then kill.
  kill "$pid"
  local grace=$((SECONDS + 2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < grace)) || kill -9 "$pid" 2>/dev/null || true
    sleep 0.1
  done
  # exec: the pid recorded is the component itself, and no shell holds our output open.
  (cd "$cluster_dir" && exec setsid "${cmd[@]}" >>"$cluster_dir/logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$pidfile"
}

restart_apiserver() {
  restart_component kube-apiserver "$@"
  # With extra flags, readiness leaves out informer-sync: a 1.36 kube-apiserver keeps an informer on
  # DRA's ResourceSlices of its own, which never syncs while resource.k8s.io/v1 is turned off (it serves
  # everything else).
  local readyz=/readyz; (($#)) && readyz='/readyz?exclude=informer-sync'
  local deadline=$((SECONDS + 60))
  until kubectl get --raw "$readyz" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "kube-apiserver did not come back"; exit 1; }
    sleep 0.2
  done
  log "kube-apiserver is back (pid $(cat "$cluster_dir/pids/kube-apiserver.pid"))"
}

# The scheduler and the controller-manager restarted afresh, as after a control-plane upgrade: after
# kube-apiserver restarts in quick succession their watches back off and lag behind it for up to a minute.
# (A 1.36 scheduler started against an API server without resource.k8s.io/v1 never schedules: it waits for
# its DRA informers. Restart it while the API is served.)
restart_with_healthz() {
  local name=$1; shift
  restart_component "$name" "$@"
  local port; port="$(tr '\0' '\n' <"$cluster_dir/$name.cmdline" | sed -n 's/^--secure-port=//p')"
  local deadline=$((SECONDS + 60))
  until curl -ksf "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "$name did not come back"; exit 1; }
    sleep 0.2
  done
  log "$name is back (pid $(cat "$cluster_dir/pids/$name.pid"))"
}

# kube-proxy restarted afresh, for the same reason; nothing to do on a bed without the data plane.
restart_kube_proxy() {
  [[ -f "$cluster_dir/modelops-dataplane" ]] || return 0
  restart_component kube-proxy
  start_kube_proxy
}

case "${1:-}" in
  up|status|restart-apiserver|restart-controller-manager|restart-scheduler|restart-kube-proxy|env|kubectl) ensure_built ;;
esac
case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if is_up; then echo "up: $kubeconfig"; else echo "down"; exit 1; fi ;;
  restart-apiserver) shift; restart_apiserver "$@" ;;
  restart-controller-manager) shift; restart_with_healthz kube-controller-manager "$@" ;;
  restart-scheduler) shift; restart_with_healthz kube-scheduler "$@" ;;
  restart-kube-proxy) restart_kube_proxy ;;
  env)
    printf 'export KUBECONFIG=%q\nexport PATH=%q:"$PATH"\n' "$kubeconfig" "$(bin)"
    if [[ -f "$cluster_dir/modelops-dataplane" ]]; then
      printf 'export MODELOPS_PROMETHEUS_URL=%q\nexport MODELOPS_TESTBED_VOLUMES=%q\nexport MODELOPS_TESTBED_SERVING=%q\n' \
        "$(cat "$cluster_dir/prometheus/url")" "$serving_dir/volumes" "$serving_dir"
    fi
    ;;
  kubectl) shift; kubectl "$@" ;;
  -h|--help|"") sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) log "unknown command: $1"; exit 2 ;;
esac
