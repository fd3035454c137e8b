package kube_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// deployObjects decodes every object of the deploy/ manifests the
// kustomization applies.
func deployObjects(t *testing.T) []runtime.Object {
	t.Helper()
	var out []runtime.Object
	for _, f := range kustomizationResources(t) {
		out = append(out, manifest(t, f)...)
	}
	return out
}

// TestDeployedServeIsHighlyAvailableOnASharedStore: the serve Deployment as
// shipped runs two replicas on the store of a Secret, ready only with it,
// and a PodDisruptionBudget keeps one of them.
func TestDeployedServeIsHighlyAvailableOnASharedStore(t *testing.T) {
	var dep *appsv1.Deployment
	var pdb *policyv1.PodDisruptionBudget
	for _, o := range deployObjects(t) {
		switch o := o.(type) {
		case *appsv1.Deployment:
			dep = o
		case *policyv1.PodDisruptionBudget:
			pdb = o
		}
	}
	if dep == nil || pdb == nil {
		t.Fatalf("deploy/ applies Deployment %v and PodDisruptionBudget %v, want both", dep != nil, pdb != nil)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	var storeURL bool
	for _, e := range c.Env {
		if e.Name != "OPS_SKILL_STORE_URL" {
			continue
		}
		ref := e.ValueFrom
		switch {
		case e.Value != "":
			t.Error("OPS_SKILL_STORE_URL has a value in the manifest: its password belongs in a Secret")
		case ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name == "" || ref.SecretKeyRef.Key == "":
			t.Errorf("OPS_SKILL_STORE_URL from %+v, want a secretKeyRef", ref)
		case ref.SecretKeyRef.Optional != nil && *ref.SecretKeyRef.Optional:
			t.Error("the store Secret is optional: without it two replicas would keep a history each")
		default:
			storeURL = true
		}
	}
	if !storeURL {
		t.Error("the Deployment does not set OPS_SKILL_STORE_URL")
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v, want GET /readyz (which fails while the store does not answer)", p)
	}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if s := v.Secret; s != nil && (s.DefaultMode == nil || *s.DefaultMode&0o004 != 0) {
			t.Errorf("Secret volume %s is world-readable: serve refuses such a token file", v.Name)
		}
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 1", pdb.Spec.MinAvailable)
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("the PodDisruptionBudget's selector %v does not select the serve pods (%v)", pdb.Spec.Selector, err)
	}
}
