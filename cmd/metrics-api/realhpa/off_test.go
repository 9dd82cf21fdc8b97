//go:build !kubeapiserver

package realhpa_test

import (
	"testing"

	"github.com/labsea/metricsender/internal/kubetest"
)

// TestEndToEnd needs -tags kubeapiserver and the cluster's binaries.
func TestEndToEnd(t *testing.T) { kubetest.OffCluster(t) }

// TestDifferential needs -tags kubeapiserver and the cluster's binaries.
func TestDifferential(t *testing.T) { kubetest.OffCluster(t) }
