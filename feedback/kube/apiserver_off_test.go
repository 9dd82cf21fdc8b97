//go:build !kubeapiserver

package kube_test

import (
	"testing"

	"github.com/labsea/metricsender/internal/kubetest"
)

// TestKubeAPIServer (apiserver_test.go) needs -tags kubeapiserver; without
// it this says how to run it.
func TestKubeAPIServer(t *testing.T) { kubetest.Off(t) }
