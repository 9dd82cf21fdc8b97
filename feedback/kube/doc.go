// Package kube is the kubernetes feedback source of the closed loop: it
// watches the apps/v1 Deployments and StatefulSets of one namespace with
// client-go shared informers and turns what the operator under test did
// to them into generator Observations (Source "kubernetes").
//
// # Mapping
//
// A simulated deployment maps to the workload of the namespace with its
// name, a Deployment unless its `kubernetes:` section (generator.Kubernetes)
// names another kind or name:
//
//	kubernetes: {kind: StatefulSet, name: web-db, container: main, allocation: limits, resources: {gpu: amd.com/gpu}}
//
// What is read:
//
//   - replicas: spec.replicas (1 when unset, as the API server defaults it);
//   - ready: status.readyReplicas (a replicas change always carries ready,
//     so ready is never taken to follow replicas);
//   - allocation.<metric>: the container's (the first of the pod
//     template, or the one named) limit of the metric's resource when one
//     is set, else its request; `allocation: requests|limits` pins one.
//     cpu and memory read themselves, gpu reads nvidia.com/gpu, and
//     `resources:` maps any metric to any resource. Quantities become
//     doubles in base units ("500m" is 0.5, "1Gi" 1073741824).
//
// A field is observed when it changes, and every field once when a
// deployment is first seen, so a value the api or bus source set holds
// until the workload's own value moves. A resource that disappears from
// the container, and a workload that is deleted, leave the last value.
//
// # Failure
//
// When the API server is unreachable, or refuses a list or watch (a Role
// without watch, say), a throttled warning names the call, the error and
// a hint; Ready returns the reason (for a 503 /readyz) until the call
// succeeds again; the informers retry with backoff; the observed state
// holds. Nothing here panics or exits.
//
// # Wiring
//
//	src, err := kube.New(kube.Config{Deployments: cfg.Deployments, Namespace: ns, Selector: sel, Kubeconfig: path}, schedule, logger)
//	go src.Run(ctx)
//	err = src.WaitSynced(connectCtx) // the first tick waits for the first lists
//	// readiness: src.Ready(); after a reload: schedule.Apply(...), then src.SetDeployments(newCfg.Deployments)
//
// The client (Client) is client-go's REST client with a scheme of apps/v1
// only, not the clientset, whose scheme compiles every API group into the
// binary. To read another group (autoscaling/v2, say), add it to groups and
// addGroups in client.go.
//
// The ServiceAccount needs get, list and watch on deployments and
// statefulsets of the namespace: deployments/feedback-kubernetes.
package kube
