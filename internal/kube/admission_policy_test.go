package kube_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// admissionPolicy reads the policy of deploy/admission-policy.yaml.
func admissionPolicy(t *testing.T) *admissionv1.ValidatingAdmissionPolicy {
	t.Helper()
	for _, obj := range manifest(t, "admission-policy.yaml") {
		if p, ok := obj.(*admissionv1.ValidatingAdmissionPolicy); ok {
			return p
		}
	}
	t.Fatal("deploy/admission-policy.yaml holds no ValidatingAdmissionPolicy")
	return nil
}

// jsonFields are the JSON names of the fields of a struct value.
func jsonFields(v any) []string {
	ty := reflect.TypeOf(v)
	var out []string
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestAdmissionPolicyComparesEveryFieldItDoesNotAllow: every field of the
// Deployment and StatefulSet specs, the pod spec and a container that the
// policy does not let ops-skill change is compared with its old value, so a
// field a new Kubernetes API adds fails here until the policy covers it.
func TestAdmissionPolicyComparesEveryFieldItDoesNotAllow(t *testing.T) {
	p := admissionPolicy(t)
	var all []string
	for _, v := range p.Spec.Validations {
		all = append(all, strings.Join(strings.Fields(v.Expression), " "))
	}
	exprs := strings.Join(all, "\n")
	cases := []struct {
		what    string
		fields  []string
		allowed []string // changes the policy lets through, or compares otherwise
		compare string   // %s is the field
	}{
		{"DeploymentSpec", jsonFields(appsv1.DeploymentSpec{}), []string{"replicas", "template"}, "object.spec.?%s == oldObject.spec.?%s"},
		{"StatefulSetSpec", jsonFields(appsv1.StatefulSetSpec{}), []string{"replicas", "template"}, "object.spec.?%s == oldObject.spec.?%s"},
		{"PodSpec", jsonFields(corev1.PodSpec{}), []string{"containers"}, "variables.newPod.?%s == variables.oldPod.?%s"},
		{"Container", jsonFields(corev1.Container{}), []string{"name", "image", "resources"}, "o.?%s == c.?%s"},
	}
	for _, c := range cases {
		for _, f := range c.fields {
			if slices.Contains(c.allowed, f) {
				continue
			}
			if want := strings.ReplaceAll(c.compare, "%s", f); !strings.Contains(exprs, want) {
				t.Errorf("%s.%s is not compared by deploy/admission-policy.yaml (want %q)", c.what, f, want)
			}
		}
	}
	for _, want := range []string{"o.name == c.name && o.?image == c.?image", "kubectl.kubernetes.io/restartedAt",
		"variables.newPod.containers.size() == variables.oldPod.containers.size()"} {
		if !strings.Contains(exprs, want) {
			t.Errorf("the policy does not check %q", want)
		}
	}
	if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionv1.Fail {
		t.Error("the policy must fail closed (failurePolicy: Fail)")
	}
}

// TestKustomizationAppliesTheAdmissionPolicy: kubectl apply -k deploy/ ships it.
func TestKustomizationAppliesTheAdmissionPolicy(t *testing.T) {
	if res := kustomizationResources(t); !slices.Contains(res, "admission-policy.yaml") {
		t.Errorf("deploy/kustomization.yaml resources %v, want admission-policy.yaml", res)
	}
}
