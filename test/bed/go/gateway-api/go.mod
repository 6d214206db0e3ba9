// Wrapper module: pins sigs.k8s.io/gateway-api, whose config/crd/standard the test bed installs.
module modelops.dev/testbed/gatewayapi

go 1.26.0

require sigs.k8s.io/gateway-api v1.6.3
