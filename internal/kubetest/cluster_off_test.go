//go:build !kubeapiserver

package kubetest_test

import (
	"testing"

	"github.com/labsea/metricsender/internal/kubetest"
)

// TestCluster needs -tags kubeapiserver and the cluster's binaries.
func TestCluster(t *testing.T) { kubetest.OffCluster(t) }
