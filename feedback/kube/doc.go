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
// # The HPA
//
// The source also watches the namespace's autoscaling/v2
// HorizontalPodAutoscalers (not narrowed by the selector), so that the
// judge can hold a real HPA to its own spec: Calls answers what replica
// count a message's values call for, by the stand-in's code
// (policy.HPA.Recommend) on the spec of the HPA whose scaleTargetRef is
// the app's workload, converted by hpaConfig (External AverageValue on the
// bridge's series app=<name>, Object AverageValue on deployments/<name>,
// Pods AverageValue, Resource AverageValue or Utilization; min, max,
// behavior). A spec it cannot follow is logged once with the reason,
// listed by Unjudged, and not judged. A spec change applies from the next
// call. A change of the workload's replicas that the source observes is
// the controller's scale event (policy.HPA.Scaled). Reading the HPAs is
// not needed for the workloads: refused (a Role without them), it is
// logged with a hint and Unjudged says why, but Ready stays nil.
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
// The client (Client) is client-go's REST client with a scheme of the
// groups read only (apps/v1 and autoscaling/v2), not the clientset, whose
// scheme compiles every API group into the binary. To read another group,
// add it to groups and addGroups in client.go.
//
// The ServiceAccount needs get, list and watch on deployments and
// statefulsets (apps) and, to judge HPAs, horizontalpodautoscalers
// (autoscaling) of the namespace: deployments/feedback-kubernetes.
package kube
