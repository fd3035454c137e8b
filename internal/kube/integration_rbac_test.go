//go:build integration

package kube_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/tools"
)

// applyRBAC creates deploy/rbac.yaml in the test namespace (its ClusterRole
// and ClusterRoleBinding renamed for it); edit may narrow the Role.
func (c *cluster) applyRBAC(edit func(*rbacv1.Role)) { c.t.Helper(); c.applyRBACBound(edit, true) }

// applyRBACBound is applyRBAC; bindClusterRole false leaves out the
// ClusterRoleBinding (the identity is not bound to the ClusterRole).
func (c *cluster) applyRBACBound(edit func(*rbacv1.Role), bindClusterRole bool) {
	c.t.Helper()
	ctx := context.Background()
	for _, obj := range manifest(c.t, "rbac.yaml") {
		var err error
		if _, crb := obj.(*rbacv1.ClusterRoleBinding); crb && !bindClusterRole {
			continue
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			o.Namespace = c.ns
			_, err = c.admin.CoreV1().ServiceAccounts(c.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			o.Namespace = c.ns
			if edit != nil {
				edit(o)
			}
			_, err = c.admin.RbacV1().Roles(c.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			o.Namespace, o.Subjects[0].Namespace = c.ns, c.ns
			_, err = c.admin.RbacV1().RoleBindings(c.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole:
			// Cluster-scoped: one per test namespace, removed with it.
			o.Name = clusterRoleName(o.Name, c.ns)
			_, err = c.admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
			name := o.Name
			c.t.Cleanup(func() { _ = c.admin.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{}) })
		case *rbacv1.ClusterRoleBinding:
			o.Name, o.RoleRef.Name, o.Subjects[0].Namespace = clusterRoleName(o.Name, c.ns), clusterRoleName(o.RoleRef.Name, c.ns), c.ns
			_, err = c.admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
			name := o.Name
			c.t.Cleanup(func() {
				_ = c.admin.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
			})
		default:
			c.t.Fatalf("deploy/rbac.yaml holds an unexpected %T", obj)
		}
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

// clusterRoleName is deploy/rbac.yaml's cluster-scoped name, made unique to
// one test namespace.
func clusterRoleName(name, ns string) string { return name + "-" + ns }

// asServiceAccount is a client config authenticated as a ServiceAccount of
// the test namespace, with a token from the TokenRequest API.
func (c *cluster) asServiceAccount(name string) *rest.Config {
	c.t.Helper()
	ctx := context.Background()
	if _, err := c.admin.CoreV1().ServiceAccounts(c.ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
		if _, err := c.admin.CoreV1().ServiceAccounts(c.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			c.t.Fatal(err)
		}
	}
	exp := int64(600)
	tr, err := c.admin.CoreV1().ServiceAccounts(c.ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(c.conn.Config)
	cfg.BearerToken = tr.Status.Token
	return cfg
}

func TestToolsWorkUnderExactlyTheDeployedRole(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	c.deployment("web", 2)
	c.applyRBAC(nil)
	a, _ := c.adapter(c.asServiceAccount("ops-skill"))
	reg := c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now()))
	ctx := context.Background()
	backend, web := c.ref("backend"), c.ref("web")
	if missing, err := a.MissingPermissions(ctx, c.ns); err != nil || len(missing) != 0 {
		t.Fatalf("missing permissions under the deployed Role: %v, %v", missing, err)
	}

	mustStatus(t, call(ctx, reg, autoRun(), "getServiceStatus", wargs(backend, "")), tools.StatusOK)
	mustStatus(t, call(ctx, reg, autoRun(), "getLogs", wargs(backend, `"filter":"error"`)), tools.StatusOK)
	writes := []tools.Outcome{call(ctx, reg, autoRun(), "scaleDeployment", wargs(backend, `"replicas":3`))}
	pods := c.waitRunning("backend", 3)
	c.setPodStatus(pods[0], oomLooping)
	writes = append(writes, call(ctx, reg, autoRun(), "updateResources", wargs(backend, `"memoryLimit":"512Mi"`)))
	webPods := c.waitRunning("web", 2)
	c.setPodStatus(webPods[0], oomLooping)
	writes = append(writes, call(ctx, reg, autoRun(), "restartPods", wargs(web, `"pods":["`+webPods[0].Name+`"]`)))
	c.setPodStatus(webPods[1], oomLooping)
	writes = append(writes, call(ctx, reg, autoRun(), "restartPods", wargs(web, "")))
	for _, o := range writes {
		mustStatus(t, o, tools.StatusExecuted)
		if o.Error != "" { // the Kubernetes event is part of every write
			t.Errorf("%s: %s", o.Tool, o.Error)
		}
	}
	if ev := c.opsEvents(); len(ev) != len(writes) {
		t.Errorf("events = %q, want one per write", ev)
	}
}

func TestToolsFailCleanlyWithoutTheRole(t *testing.T) {
	tests := []struct {
		name, sa string
		narrow   func(*rbacv1.Role)
		want     string
		missing  int
	}{
		{name: "no role at all", sa: "intruder", want: "may not get deployments.apps", missing: len(kube.RequiredPermissions())},
		{name: "read-only role", sa: "ops-skill", want: "may not update deployments.apps", missing: 5, narrow: func(r *rbacv1.Role) {
			for i := range r.Rules {
				r.Rules[i].Verbs = slices.DeleteFunc(r.Rules[i].Verbs, func(v string) bool { return v == "update" || v == "create" })
			}
			r.Rules = slices.DeleteFunc(r.Rules, func(p rbacv1.PolicyRule) bool { return len(p.Verbs) == 0 })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			c.deployment("backend", 2)
			c.applyRBAC(tt.narrow)
			before := c.get("backend")
			a, _ := c.adapter(c.asServiceAccount(tt.sa))
			missing, err := a.MissingPermissions(context.Background(), c.ns)
			if err != nil || len(missing) != tt.missing {
				t.Errorf("missing permissions = %v, %v; want %d", missing, err, tt.missing)
			}
			reg := c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now()))
			o := call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
			mustStatus(t, o, tools.StatusFailed)
			for _, s := range []string{tt.want, "deploy/rbac.yaml", "forbidden"} {
				if !strings.Contains(o.Error, s) {
					t.Errorf("error %q does not say %q", o.Error, s)
				}
			}
			after := c.get("backend")
			if after.Generation != before.Generation || *after.Spec.Replicas != 2 || after.Annotations[guard.StateAnnotation] != "" {
				t.Errorf("partial change: generation %d → %d, replicas %d, state %q", before.Generation, after.Generation,
					*after.Spec.Replicas, after.Annotations[guard.StateAnnotation])
			}
			if ev := c.opsEvents(); len(ev) != 0 {
				t.Errorf("events = %q, want none", ev)
			}
			_, err = a.GetWorkload(context.Background(), c.ref("backend"))
			if tt.sa == "intruder" && !errors.Is(err, kube.ErrForbidden) {
				t.Errorf("GetWorkload: %v, want ErrForbidden", err)
			}
		})
	}
}
