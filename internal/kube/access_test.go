package kube

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
)

// The Role shipped in deploy/rbac.yaml grants exactly RequiredPermissions.
func TestDeployedRoleGrantsExactlyTheRequiredPermissions(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var granted []string
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("deploy/rbac.yaml: %v", err)
		}
		role, ok := obj.(*rbacv1.Role)
		if !ok {
			continue
		}
		for _, r := range role.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						granted = append(granted, Permission{Group: g, Resource: res, Verb: v}.String())
					}
				}
			}
		}
	}
	var required []string
	for _, p := range RequiredPermissions() {
		required = append(required, p.String())
	}
	slices.Sort(granted)
	slices.Sort(required)
	if !slices.Equal(granted, required) {
		t.Errorf("deploy/rbac.yaml grants\n  %q\nthe adapter needs\n  %q", granted, required)
	}
}

func TestMissingPermissionsAsksTheServer(t *testing.T) {
	f := newFixture(t)
	f.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attr := r.Spec.ResourceAttributes
		r.Status.Allowed = attr.Namespace == testNS && !(attr.Verb == "update" || attr.Subresource == "eviction")
		return true, r, nil
	})
	missing, err := f.c.MissingPermissions(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range missing {
		names = append(names, p.String())
	}
	want := []string{"update deployments.apps", "update statefulsets.apps", "create pods/eviction"}
	if !equal(names, want) {
		t.Errorf("missing = %q, want %q", names, want)
	}
	err = AccessError(testNS, missing)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "deploy/rbac.yaml") || !strings.Contains(err.Error(), "create pods/eviction (replace pods") {
		t.Errorf("AccessError = %v", err)
	}
	if AccessError(testNS, nil) != nil {
		t.Error("no missing permission is no error")
	}
}
