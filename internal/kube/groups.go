package kube

import (
	"fmt"

	"k8s.io/client-go/discovery"
	appsv1 "k8s.io/client-go/kubernetes/typed/apps/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	autoscalingv2 "k8s.io/client-go/kubernetes/typed/autoscaling/v2"
	batchv1 "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	eventsv1 "k8s.io/client-go/kubernetes/typed/events/v1"
	policyv1 "k8s.io/client-go/kubernetes/typed/policy/v1"
	storagev1 "k8s.io/client-go/kubernetes/typed/storage/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// API is the part of the Kubernetes API the adapter uses: one typed client
// per API group. kubernetes.Interface (a clientset, or the fake one in tests)
// satisfies it; NewForConfig builds only these groups, so the binary does not
// carry the typed clients of the groups it never calls.
type API interface {
	AppsV1() appsv1.AppsV1Interface
	CoreV1() corev1.CoreV1Interface
	AuthorizationV1() authorizationv1.AuthorizationV1Interface
	AutoscalingV2() autoscalingv2.AutoscalingV2Interface
	BatchV1() batchv1.BatchV1Interface
	EventsV1() eventsv1.EventsV1Interface
	PolicyV1() policyv1.PolicyV1Interface
	StorageV1() storagev1.StorageV1Interface
	Discovery() discovery.DiscoveryInterfaces
}

// groups is the API built from a rest.Config, the groups sharing one HTTP
// client as a clientset's do.
type groups struct {
	apps          *appsv1.AppsV1Client
	core          *corev1.CoreV1Client
	authorization *authorizationv1.AuthorizationV1Client
	autoscaling   *autoscalingv2.AutoscalingV2Client
	batch         *batchv1.BatchV1Client
	events        *eventsv1.EventsV1Client
	policy        *policyv1.PolicyV1Client
	storage       *storagev1.StorageV1Client
	discovery     *discovery.DiscoveryClient
}

func (g *groups) AppsV1() appsv1.AppsV1Interface { return g.apps }
func (g *groups) CoreV1() corev1.CoreV1Interface { return g.core }
func (g *groups) AuthorizationV1() authorizationv1.AuthorizationV1Interface {
	return g.authorization
}
func (g *groups) AutoscalingV2() autoscalingv2.AutoscalingV2Interface { return g.autoscaling }
func (g *groups) BatchV1() batchv1.BatchV1Interface                   { return g.batch }
func (g *groups) EventsV1() eventsv1.EventsV1Interface                { return g.events }
func (g *groups) PolicyV1() policyv1.PolicyV1Interface                { return g.policy }
func (g *groups) StorageV1() storagev1.StorageV1Interface             { return g.storage }
func (g *groups) Discovery() discovery.DiscoveryInterfaces            { return g.discovery }

// newGroups builds the API's group clients from cfg, as
// kubernetes.NewForConfig builds a whole clientset.
func newGroups(cfg *rest.Config) (*groups, error) {
	c := *cfg
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	hc, err := rest.HTTPClientFor(&c)
	if err != nil {
		return nil, err
	}
	// One rate limit for all groups, as a clientset has.
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, fmt.Errorf("api group client: burst must be above 0 when QPS is set")
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	var g groups
	steps := []func() error{
		func() (err error) { g.apps, err = appsv1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.core, err = corev1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.authorization, err = authorizationv1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.autoscaling, err = autoscalingv2.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.batch, err = batchv1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.events, err = eventsv1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.policy, err = policyv1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.storage, err = storagev1.NewForConfigAndClient(&c, hc); return },
		func() (err error) { g.discovery, err = discovery.NewDiscoveryClientForConfigAndClient(&c, hc); return },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("api group client: %w", err)
		}
	}
	return &g, nil
}
