package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Permission is one RBAC permission the tools need in a namespace.
type Permission struct {
	Group    string // "" for the core group
	Resource string // with its subresource, e.g. "pods/eviction"
	Verb     string
	Why      string // the tool or step that needs it
	// Cluster marks a cluster-scoped resource: a ClusterRole grants it, and
	// it is asked of the API server without a namespace.
	Cluster bool
	// Optional marks a permission the tools work without: only the tool
	// that needs it refuses (no StorageClass read: every expansion is
	// refused, volume.class_unknown).
	Optional bool
}

// Writes reports a permission that only writes need (observe mode does without it).
func (p Permission) Writes() bool {
	switch p.Verb {
	case "update", "patch", "create", "delete":
		return !(p.Group == "events.k8s.io" && p.Resource == "events")
	}
	return false
}

// AccessResult is the API server's answer for one permission.
type AccessResult struct {
	Permission
	Allowed bool
	// Reason is the authorizer's reason, when it gave one.
	Reason string
}

// String renders the permission as "verb resource.group".
func (p Permission) String() string {
	r := p.Resource
	if p.Group != "" {
		r += "." + p.Group
	}
	return p.Verb + " " + r
}

// RequiredPermissions lists what the adapter uses, and nothing more; it is
// what deploy/rbac.yaml grants (a test keeps the two in step). The KEDA one
// is needed even where KEDA is not installed: RBAC is checked before the
// server finds that the resource does not exist.
func RequiredPermissions() []Permission {
	return []Permission{
		{Group: "apps", Resource: "deployments", Verb: "get", Why: "read a workload"},
		{Group: "apps", Resource: "deployments", Verb: "list", Why: "list the workloads of a namespace"},
		{Group: "apps", Resource: "deployments", Verb: "update", Why: "scale, restart, set limits"},
		{Group: "apps", Resource: "statefulsets", Verb: "get", Why: "read a workload"},
		{Group: "apps", Resource: "statefulsets", Verb: "list", Why: "list the workloads of a namespace"},
		{Group: "apps", Resource: "statefulsets", Verb: "update", Why: "scale, restart, set limits"},
		{Resource: "pods", Verb: "get", Why: "check a pod before evicting it"},
		{Resource: "pods", Verb: "list", Why: "the pods of a workload"},
		{Resource: "pods/log", Verb: "get", Why: "getLogs"},
		{Resource: "pods", Verb: "delete", Why: "recycle a StatefulSet's pods that are not ready on the old revision after a memory raise or restart"},
		{Resource: "pods/eviction", Verb: "create", Why: "replace pods through the Eviction API"},
		{Resource: "events", Verb: "list", Why: "recent events of a workload"},
		{Group: "events.k8s.io", Resource: "events", Verb: "create", Why: "record what ops-skill did"},
		{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verb: "list", Why: "refuse to scale what an HPA owns"},
		{Group: "keda.sh", Resource: "scaledobjects", Verb: "list", Why: "refuse to scale what KEDA owns"},
		{Group: "apps", Resource: "replicasets", Verb: "get", Why: "resolve an alert's pod to its Deployment"},
		{Group: "apps", Resource: "daemonsets", Verb: "get", Why: "resolve an alert's DaemonSet"},
		{Group: "batch", Resource: "jobs", Verb: "get", Why: "resolve an alert's pod or Job"},
		{Resource: "persistentvolumeclaims", Verb: "get", Why: "resolve an alert's volume to its workload"},
		{Resource: "services", Verb: "get", Why: "resolve an alert's Service to its workload"},
		{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verb: "get", Why: "resolve an alert's HPA to its target"},
		{Resource: "persistentvolumeclaims", Verb: "update", Why: "expand a volume (spec.resources.requests.storage)"},
		{Group: "storage.k8s.io", Resource: "storageclasses", Verb: "get", Cluster: true, Optional: true,
			Why: "whether a volume's StorageClass allows expansion (cluster-scoped: ClusterRole " + StorageRBAC + "); without it expansions are refused"},
	}
}

// MissingPermissions asks the API server (SelfSubjectAccessReview, which
// every authenticated identity may create) which RequiredPermissions the
// identity in use lacks in namespace, so a misconfigured deployment is found
// before any tool runs rather than in the middle of one.
func (c *Client) MissingPermissions(ctx context.Context, namespace string) ([]Permission, error) {
	results, err := c.Access(ctx, namespace, RequiredPermissions())
	if err != nil {
		return nil, err
	}
	var missing []Permission
	for _, r := range results {
		if !r.Allowed {
			missing = append(missing, r.Permission)
		}
	}
	return missing, nil
}

// Access asks the API server, one SelfSubjectAccessReview per permission (at
// most four at a time), whether the identity in use holds each permission in
// namespace (a cluster-scoped one, cluster-wide). The results keep the order
// of perms.
func (c *Client) Access(ctx context.Context, namespace string, perms []Permission) ([]AccessResult, error) {
	if namespace == "" {
		namespace = c.namespace
	}
	out := make([]AccessResult, len(perms))
	errs := make([]error, len(perms))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, p := range perms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = c.review(ctx, namespace, p)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) review(ctx context.Context, namespace string, p Permission) (AccessResult, error) {
	resource, sub, _ := strings.Cut(p.Resource, "/")
	if p.Cluster {
		namespace = ""
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: p.Verb,
			Group: p.Group, Resource: resource, Subresource: sub}}}
	got, err := c.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return AccessResult{}, c.wrap(ctx, op{"create", "selfsubjectaccessreviews.authorization.k8s.io", "", ""}, err)
	}
	return AccessResult{Permission: p, Allowed: got.Status.Allowed, Reason: got.Status.Reason}, nil
}

// ServerVersion asks the API server for its version: the cheapest proof that
// it answers and that the credentials are accepted.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	v, err := c.kube.Discovery().ServerVersionWithContext(ctx)
	if err != nil {
		return "", c.wrap(ctx, op{"get", "version", "", ""}, err)
	}
	return v.GitVersion, nil
}

// AccessError describes missing permissions and the fix; it wraps ErrForbidden.
func AccessError(namespace string, missing []Permission) error {
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, p := range missing {
		names[i] = p.String() + " (" + p.Why + ")"
	}
	return fmt.Errorf("%w: in namespace %s ops-skill may not %s; apply deploy/rbac.yaml (Role ops-skill) there and bind it to the identity ops-skill runs as "+
		"(cluster-scoped permissions: ClusterRole %s)", ErrForbidden, namespace, strings.Join(names, ", "), StorageRBAC)
}
