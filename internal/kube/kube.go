// Package kube is the Kubernetes adapter of ops-skill: it implements
// platform.Cluster with client-go against a real API server.
//
// It connects like kubectl (a KUBECONFIG list of files, a context, a namespace,
// or the in-cluster service account; see LoadConfig), bounds every request with
// a timeout and a client-side rate, and maps the API's answers onto the
// platform sentinels: NotFound → platform.ErrNotFound, a resourceVersion
// conflict → platform.ErrConflict, a disruption-budget refusal of an eviction →
// platform.ErrDisruptionBudget, an unreachable or failing server →
// platform.ErrUnavailable, and RBAC denials → ErrForbidden with the verb, the
// resource and the fix.
//
// Every change to a workload is one Update of the Deployment or StatefulSet
// itself (not of its scale subresource), carrying the resourceVersion the
// caller read and the guard's state annotation, so two agents cannot both act
// on the same observation: the second gets platform.ErrConflict and must
// re-read and re-decide.
package kube

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Names ops-skill writes into the cluster.
const (
	// ReportingController is the reportingController of every Event ops-skill records.
	ReportingController = "ops-skill"
	// RestartedAtAnnotation is the pod-template annotation a rollout restart
	// sets, as `kubectl rollout restart` does.
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
	// FieldManager names ops-skill in the managedFields of what it writes.
	FieldManager = "ops-skill"
)

// Kinds of workload the adapter handles.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
)

// Errors of this adapter beyond the platform sentinels.
var (
	// ErrForbidden means RBAC denied a request; the error names the verb,
	// the resource and the fix.
	ErrForbidden = errors.New("forbidden by the cluster's RBAC")
	// ErrUnauthorized means the API server rejected the credentials.
	ErrUnauthorized = errors.New("credentials rejected by the API server")
	// ErrPaused means a rollout restart or resource change was asked of a
	// paused Deployment; it would not roll out, and someone paused it on purpose.
	ErrPaused = errors.New("rollout is paused")
	// ErrInvalid means the API server rejected a write as invalid.
	ErrInvalid = errors.New("rejected as invalid by the API server")
)

// Client implements platform.Cluster on client-go. It is safe for concurrent use.
type Client struct {
	kube      API
	dyn       dynamic.Interface
	clock     clock.WithTicker
	poll      time.Duration
	namespace string
	instance  string
	maxEvents int

	mu    sync.Mutex
	seen  map[platform.WorkloadRef]identity // last kind and UID seen per workload
	reads map[readMark]string               // what was read at a resourceVersion (fingerprint)
}

// readMark names one read of a workload.
type readMark struct {
	ref platform.WorkloadRef
	rv  string
}

// identity is what RecordEvent needs to point an Event at a workload.
type identity struct {
	kind string
	uid  types.UID
}

var _ platform.Cluster = (*Client)(nil)

// Option configures a Client.
type Option func(*Client)

// WithClock sets the clock used for restartedAt, event times and the polling
// of WaitRollout (default: the real clock).
func WithClock(c clock.WithTicker) Option { return func(k *Client) { k.clock = c } }

// WithPollInterval sets how often WaitRollout reads the workload (default 1s).
func WithPollInterval(d time.Duration) Option { return func(k *Client) { k.poll = d } }

// WithInstance sets the reportingInstance of recorded Events (default:
// "ops-skill-" and the host name).
func WithInstance(name string) Option { return func(k *Client) { k.instance = name } }

// WithMaxEvents bounds the recent events GetWorkload returns (default 20).
func WithMaxEvents(n int) Option { return func(k *Client) { k.maxEvents = n } }

// New builds the adapter on existing clients; dyn may be nil, in which case
// KEDA ScaledObjects are not looked up. namespace is used when a call names
// none.
func New(kube API, dyn dynamic.Interface, namespace string, opts ...Option) *Client {
	c := &Client{kube: kube, dyn: dyn, clock: clock.RealClock{}, poll: time.Second, namespace: namespace, maxEvents: 20,
		seen: map[platform.WorkloadRef]identity{}, reads: map[readMark]string{}}
	if c.namespace == "" {
		c.namespace = "default"
	}
	for _, o := range opts {
		o(c)
	}
	if c.instance == "" {
		host, _ := os.Hostname()
		c.instance = text.Prefix("ops-skill-"+host, 128)
	}
	return c
}

// NewForConfig builds the adapter from a rest.Config, such as the one
// LoadConfig returns.
func NewForConfig(cfg *rest.Config, namespace string, opts ...Option) (*Client, error) {
	kc, err := newGroups(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes dynamic client: %w", err)
	}
	return New(kc, dc, namespace, opts...), nil
}

// Namespace is the namespace used when a call names none.
func (c *Client) Namespace() string { return c.namespace }

func (c *Client) ns(ref platform.WorkloadRef) platform.WorkloadRef {
	if ref.Namespace == "" {
		ref.Namespace = c.namespace
	}
	return ref
}

func (c *Client) known(ref platform.WorkloadRef) (identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.seen[ref]
	return id, ok
}

// remember keeps the kind and UID of a workload just read or written, and
// what it looked like at that resourceVersion.
func (c *Client) remember(o object) {
	m := o.meta()
	ref := platform.WorkloadRef{Namespace: m.Namespace, Name: m.Name}
	fp := o.fingerprint()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) > 4096 { // bound the caches; they are only hints
		clear(c.seen)
	}
	if len(c.reads) > 4096 {
		clear(c.reads)
	}
	c.seen[ref] = identity{kind: o.kind(), uid: m.UID}
	c.reads[readMark{ref, m.ResourceVersion}] = fp
}

// unchangedSince reports whether o differs from what this client read at
// resourceVersion rv only in its status: same generation (so the same spec),
// labels and annotations. An unknown rv is never unchanged.
func (c *Client) unchangedSince(rv string, o object) bool {
	m := o.meta()
	c.mu.Lock()
	fp, ok := c.reads[readMark{platform.WorkloadRef{Namespace: m.Namespace, Name: m.Name}, rv}]
	c.mu.Unlock()
	return ok && fp == o.fingerprint()
}
