package kube

import (
	"context"
	"errors"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/duet-company/ops-skill/internal/platform"
)

// ScaledObjectResource is KEDA's ScaledObject, looked up through the dynamic
// client; a cluster without the CRD has none.
var ScaledObjectResource = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// autoscaler names the HorizontalPodAutoscaler or KEDA ScaledObject whose
// scaleTargetRef is the workload, "" when none. Any failure other than a
// missing KEDA CRD is an error: not knowing who owns the replicas must not
// read as "nobody".
func (c *Client) autoscaler(ctx context.Context, ref platform.WorkloadRef, kind string) (string, error) {
	hpas, err := c.kube.AutoscalingV2().HorizontalPodAutoscalers(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", c.wrap(ctx, op{"list", "horizontalpodautoscalers.autoscaling", ref.Namespace, ""}, err)
	}
	for _, h := range hpas.Items {
		t := h.Spec.ScaleTargetRef
		if t.Name == ref.Name && t.Kind == kind && appsGroup(t.APIVersion) {
			return "HorizontalPodAutoscaler/" + h.Name, nil
		}
	}
	return c.scaledObject(ctx, ref, kind)
}

func (c *Client) scaledObject(ctx context.Context, ref platform.WorkloadRef, kind string) (string, error) {
	if c.dyn == nil {
		return "", nil
	}
	l, err := c.dyn.Resource(ScaledObjectResource).Namespace(ref.Namespace).List(ctx, metav1.ListOptions{})
	err = c.wrap(ctx, op{"list", "scaledobjects.keda.sh", ref.Namespace, ""}, err)
	if errors.Is(err, platform.ErrNotFound) { // KEDA is not installed
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, so := range l.Items {
		if scaledObjectTargets(so, ref.Name, kind) {
			return "ScaledObject/" + so.GetName(), nil
		}
	}
	return "", nil
}

// scaledObjectTargets reads spec.scaleTargetRef; KEDA defaults the kind to
// Deployment and the apiVersion to apps/v1.
func scaledObjectTargets(so unstructured.Unstructured, name, kind string) bool {
	tn, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "name")
	tk, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "kind")
	tv, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "apiVersion")
	if tk == "" {
		tk = KindDeployment
	}
	return tn == name && tk == kind && appsGroup(tv)
}

// appsGroup reports whether an apiVersion is the apps group (empty counts:
// the field is optional in both HPA v2 and KEDA).
func appsGroup(apiVersion string) bool {
	return apiVersion == "" || apiVersion == "apps/v1" || strings.HasPrefix(apiVersion, "apps/")
}
