package kube

import (
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// hint says what a list or watch error most likely means, for the log.
func hint(err error) string {
	var netErr net.Error
	switch {
	case apierrors.IsForbidden(err):
		return "the sender's ServiceAccount needs get, list and watch on deployments and statefulsets in this namespace (the kustomize component deployments/feedback-kubernetes grants them)"
	case apierrors.IsUnauthorized(err):
		return "the API server refused the credentials (an expired or missing token?)"
	case apierrors.IsNotFound(err):
		return "the API server does not serve apps/v1 here, or the namespace does not exist"
	case errors.As(err, &netErr):
		return "the API server is unreachable; retrying with backoff"
	}
	return "retrying with backoff"
}

// hpaHint is hint for the HPAs, which only the judge needs.
func hpaHint(err error) string {
	if apierrors.IsForbidden(err) {
		return "to judge the HPA's reactions the sender's ServiceAccount needs get, list and watch on horizontalpodautoscalers (group autoscaling) in this namespace (deployments/feedback-kubernetes grants them); the workloads are read without it"
	}
	return "the HPA's reactions are not judged until it can be read; " + hint(err)
}
