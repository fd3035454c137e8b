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

// deploy/rbac.yaml grants exactly RequiredPermissions: the namespaced ones
// by its Role, the cluster-scoped ones (StorageClasses) by its ClusterRole,
// and both are bound to the same ServiceAccount.
func TestDeployedRoleGrantsExactlyTheRequiredPermissions(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role, cluster []string
	var bound []string // "kind/name → subject"
	grants := func(rules []rbacv1.PolicyRule) (out []string) {
		for _, r := range rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out = append(out, Permission{Group: g, Resource: res, Verb: v}.String())
					}
				}
			}
		}
		return out
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("deploy/rbac.yaml: %v", err)
		}
		switch o := obj.(type) {
		case *rbacv1.Role:
			role = append(role, grants(o.Rules)...)
		case *rbacv1.ClusterRole:
			if o.Name != StorageRBAC {
				t.Errorf("ClusterRole %q, want %q (the name the adapter's messages give)", o.Name, StorageRBAC)
			}
			cluster = append(cluster, grants(o.Rules)...)
		case *rbacv1.RoleBinding:
			bound = append(bound, o.RoleRef.Kind+"/"+o.RoleRef.Name+" → "+o.Subjects[0].Kind+"/"+o.Subjects[0].Namespace+"/"+o.Subjects[0].Name)
		case *rbacv1.ClusterRoleBinding:
			bound = append(bound, o.RoleRef.Kind+"/"+o.RoleRef.Name+" → "+o.Subjects[0].Kind+"/"+o.Subjects[0].Namespace+"/"+o.Subjects[0].Name)
		}
	}
	var wantRole, wantCluster []string
	for _, p := range RequiredPermissions() {
		if p.Cluster {
			wantCluster = append(wantCluster, p.String())
		} else {
			wantRole = append(wantRole, p.String())
		}
	}
	for _, l := range [][]string{role, cluster, wantRole, wantCluster, bound} {
		slices.Sort(l)
	}
	if !slices.Equal(role, wantRole) {
		t.Errorf("deploy/rbac.yaml's Role grants\n  %q\nthe adapter needs in a namespace\n  %q", role, wantRole)
	}
	if !slices.Equal(cluster, wantCluster) {
		t.Errorf("deploy/rbac.yaml's ClusterRole grants\n  %q\nthe adapter needs cluster-wide\n  %q", cluster, wantCluster)
	}
	wantBound := []string{"ClusterRole/" + StorageRBAC + " → ServiceAccount/ai-data-labs/ops-skill", "Role/ops-skill → ServiceAccount/ai-data-labs/ops-skill"}
	if !slices.Equal(bound, wantBound) {
		t.Errorf("deploy/rbac.yaml binds %q, want %q", bound, wantBound)
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
	// The StorageClass read is asked without a namespace (cluster-scoped),
	// which this server denies.
	want := []string{"update deployments.apps", "update statefulsets.apps", "create pods/eviction", "update persistentvolumeclaims",
		"get storageclasses.storage.k8s.io"}
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
