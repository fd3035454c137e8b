package kube

import (
	"context"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Permission is one RBAC permission the tools need in a namespace.
type Permission struct {
	Group    string // "" for the core group
	Resource string // with its subresource, e.g. "pods/eviction"
	Verb     string
	Why      string // the tool or step that needs it
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
		{Resource: "pods/eviction", Verb: "create", Why: "replace pods through the Eviction API"},
		{Resource: "events", Verb: "list", Why: "recent events of a workload"},
		{Group: "events.k8s.io", Resource: "events", Verb: "create", Why: "record what ops-skill did"},
		{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verb: "list", Why: "refuse to scale what an HPA owns"},
		{Group: "keda.sh", Resource: "scaledobjects", Verb: "list", Why: "refuse to scale what KEDA owns"},
	}
}

// MissingPermissions asks the API server (SelfSubjectAccessReview, which
// every authenticated identity may create) which RequiredPermissions the
// identity in use lacks in namespace, so a misconfigured deployment is found
// before any tool runs rather than in the middle of one.
func (c *Client) MissingPermissions(ctx context.Context, namespace string) ([]Permission, error) {
	if namespace == "" {
		namespace = c.namespace
	}
	var missing []Permission
	for _, p := range RequiredPermissions() {
		resource, sub, _ := strings.Cut(p.Resource, "/")
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: p.Verb,
				Group: p.Group, Resource: resource, Subresource: sub}}}
		got, err := c.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return nil, c.wrap(ctx, op{"create", "selfsubjectaccessreviews.authorization.k8s.io", "", ""}, err)
		}
		if !got.Status.Allowed {
			missing = append(missing, p)
		}
	}
	return missing, nil
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
	return fmt.Errorf("%w: in namespace %s ops-skill may not %s; apply deploy/rbac.yaml (Role ops-skill) there and bind it to the identity ops-skill runs as",
		ErrForbidden, namespace, strings.Join(names, ", "))
}
