//go:build tools

// Package tools pins the Prometheus server so `go mod tidy` records every module it needs.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
)
