//go:build !kubeapiserver

package app_test

import (
	"testing"

	"github.com/labsea/metricsender/internal/kubetest"
)

// TestClosedLoopKubernetes (closedloop_kube_test.go) needs -tags
// kubeapiserver; without it this says how to run it.
func TestClosedLoopKubernetes(t *testing.T) { kubetest.Off(t) }
