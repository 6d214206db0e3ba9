#!/usr/bin/env bash
# Builds the test bed's binaries from Go modules into a cache keyed by the pinned versions.
# Prints the cache's bin directory on its last line. Cold: ~8 minutes on 2 cores; warm: instant.
# The data plane's Prometheus and Gateway API CRDs live beside it, each under its own version's key
# (`build.sh paths` prints them all), so changing one does not rebuild the control plane.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${MODELOPS_CACHE:-$root/.cache/testbed}"
key="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
bin="$cache/$key/bin"
prometheus_bin="$cache/prometheus-$PROMETHEUS_VERSION/prometheus"
gateway_crds="$cache/gateway-api-$GATEWAY_API_VERSION/crd/standard"
if [[ "${1:-}" == paths ]]; then
  printf 'bin=%q\nprometheus=%q\ngateway_crds=%q\n' "$bin" "$prometheus_bin" "$gateway_crds"
  exit 0
fi
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { printf '[testbed build] %s\n' "$*" >&2; }

# go build -v prints one line per compiled package; turn that into a progress line every 100.
progress() {
  awk -v what="$1" '{ n++ } n % 100 == 0 { printf "[testbed build]   %s: %d packages compiled\n", what, n > "/dev/stderr"; fflush("/dev/stderr") }
                    END { printf "[testbed build]   %s: %d packages compiled\n", what, n > "/dev/stderr" }'
}

build_kubernetes() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy) missing=() b
  for b in "${want[@]}"; do [[ -x "$bin/$b" ]] || missing+=("$b"); done
  ((${#missing[@]})) || return 0
  log "building ${missing[*]} from k8s.io/kubernetes v$K8S_VERSION (the slow part)"
  local minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=()
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$here/go/kubernetes" && go build -v -trimpath -ldflags "$ldflags" -o "$bin/" "${pkgs[@]}" 2>&1) | progress kubernetes
  for b in "${missing[@]}"; do [[ -x "$bin/$b" ]] || { log "FAILED: $b was not built"; exit 1; }; done
}

build_etcd() {
  [[ -x "$bin/etcd" ]] && return 0
  log "building etcd v$ETCD_VERSION"
  (cd "$here/go/etcd" && go build -v -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3 2>&1) | progress etcd
  [[ -x "$bin/etcd" ]] || { log "FAILED: etcd was not built"; exit 1; }
}

install_tool() { # name module-path version
  [[ -x "$bin/$1" ]] && return 0
  log "building $1 $3"
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "$2@$3"
  [[ -x "$bin/$1" ]] || { log "FAILED: $1 was not built"; exit 1; }
}

# Only the Kubernetes service discovery is compiled in (Prometheus's build tags): the other discoveries'
# cloud SDKs would double the build for nothing the bed uses. The web UI's assets are not embedded; the
# HTTP API, which is all the operator and the tests use, is complete.
build_prometheus() {
  [[ -x "$prometheus_bin" ]] && return 0
  log "building prometheus $PROMETHEUS_VERSION (once: a few minutes cold)"
  local pkg=github.com/prometheus/common/version
  local ldflags="-s -w -X $pkg.Version=$PROMETHEUS_VERSION -X $pkg.Branch=HEAD"
  (cd "$here/go/prometheus" && go build -v -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags "$ldflags" \
    -o "$prometheus_bin.tmp" github.com/prometheus/prometheus/cmd/prometheus 2>&1) | progress prometheus
  mv "$prometheus_bin.tmp" "$prometheus_bin"
}

# The standard channel's CRDs as the Go module ships them (config/crd/standard), verified by go.sum.
fetch_gateway_crds() {
  [[ -d "$gateway_crds" ]] && return 0
  log "fetching the Gateway API $GATEWAY_API_VERSION CRDs from the Go module"
  local dir
  dir="$(cd "$here/go/gateway-api" && go mod download -json sigs.k8s.io/gateway-api | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir/config/crd/standard" ]] || { log "FAILED: no config/crd/standard in sigs.k8s.io/gateway-api"; exit 1; }
  mkdir -p "$gateway_crds.tmp" && cp "$dir"/config/crd/standard/*.yaml "$gateway_crds.tmp/" && mv "$gateway_crds.tmp" "$gateway_crds"
}

start=$SECONDS
build_etcd
install_tool kwok sigs.k8s.io/kwok/cmd/kwok "v$KWOK_VERSION"
install_tool kwokctl sigs.k8s.io/kwok/cmd/kwokctl "v$KWOK_VERSION"
install_tool helm helm.sh/helm/v3/cmd/helm "v$HELM_VERSION"
build_kubernetes
build_prometheus
fetch_gateway_crds
((SECONDS - start < 2)) || log "binaries ready in $((SECONDS - start))s: $bin"
echo "$bin"
