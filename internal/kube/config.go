package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Defaults of ConnectOptions.
const (
	DefaultTimeout = 15 * time.Second
	DefaultQPS     = 20
	DefaultBurst   = 40
)

// ConnectOptions say how to reach the cluster, as kubectl's flags do.
type ConnectOptions struct {
	// Kubeconfig is a list of kubeconfig files separated by the OS path-list
	// separator, as in KUBECONFIG; files are merged like kubectl does. Empty
	// means the default rules: $KUBECONFIG, then ~/.kube/config, then the
	// in-cluster service account when running in a pod.
	Kubeconfig string
	// Context selects a context of the kubeconfig (--context); empty: the current one.
	Context string
	// Namespace overrides the context's namespace (-n, NAMESPACE).
	Namespace string
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// QPS and Burst bound the client-side request rate (defaults DefaultQPS, DefaultBurst).
	QPS   float32
	Burst int
	// UserAgent names the client in the API server's audit log (default "ops-skill").
	UserAgent string
	// InCluster uses the pod's service account instead of a kubeconfig.
	InCluster bool
}

// Connection is a resolved way to reach the cluster.
type Connection struct {
	Config    *rest.Config
	Namespace string // the namespace to use when a call names none
	Context   string // the kubeconfig context in use; empty in cluster
	Cluster   string // the kubeconfig cluster of that context; "in-cluster" in a pod
	// ContextNamespace is the namespace the context names (the pod's own
	// namespace in cluster); empty when it names none.
	ContextNamespace string
	Host             string // the API server URL
	InCluster        bool
}

// ErrNoConfig means no kubeconfig was found and ops-skill is not running in a pod.
var ErrNoConfig = errors.New("no Kubernetes configuration found")

// LoadConfig resolves the connection like kubectl: the kubeconfig files
// (merged in order), the context, the namespace (the flag, else the
// context's, else "default"), or the pod's service account in cluster.
func LoadConfig(o ConnectOptions) (Connection, error) {
	if o.InCluster {
		return loadInCluster(o)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = ""
		rules.Precedence = splitList(o.Kubeconfig)
		rules.WarnIfAllMissing = false
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	if o.Namespace != "" {
		overrides.Context.Namespace = o.Namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return Connection{}, fmt.Errorf("%w: set KUBECONFIG or --kubeconfig, or run in a pod with a service account", ErrNoConfig)
		}
		return Connection{}, fmt.Errorf("kubernetes configuration: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return Connection{}, fmt.Errorf("kubernetes namespace: %w", err)
	}
	conn := Connection{Config: cfg, Namespace: ns, Host: cfg.Host}
	if raw, err := cc.RawConfig(); err == nil && len(raw.Contexts) > 0 {
		conn.Context = raw.CurrentContext
		if o.Context != "" {
			conn.Context = o.Context
		}
		if c, ok := raw.Contexts[conn.Context]; ok && c != nil {
			conn.Cluster, conn.ContextNamespace = c.Cluster, c.Namespace
		}
	} else {
		conn.InCluster, conn.Cluster = true, "in-cluster"
	}
	applyLimits(cfg, o)
	return conn, nil
}

// ServiceAccountDir is where a pod's service account token, CA and namespace are mounted.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// loadInCluster connects with the pod's service account, in the pod's namespace
// unless one is given.
func loadInCluster(o ConnectOptions) (Connection, error) {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return Connection{}, fmt.Errorf("in-cluster service account: %w", err)
	}
	podNS := ""
	if b, err := os.ReadFile(filepath.Join(ServiceAccountDir, "namespace")); err == nil {
		podNS = strings.TrimSpace(string(b))
	}
	ns := o.Namespace
	if ns == "" {
		ns = podNS
	}
	applyLimits(cfg, o)
	return Connection{Config: cfg, Namespace: ns, Host: cfg.Host, InCluster: true, Cluster: "in-cluster", ContextNamespace: podNS}, nil
}

// applyLimits sets the timeout, the client-side rate and the user agent.
func applyLimits(cfg *rest.Config, o ConnectOptions) {
	cfg.Timeout = o.Timeout
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	if cfg.QPS <= 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	cfg.UserAgent = o.UserAgent
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ops-skill"
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range filepath.SplitList(s) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Connect resolves the connection like LoadConfig and builds the adapter on
// it, using the resolved namespace when a call names none.
func Connect(o ConnectOptions, opts ...Option) (*Client, Connection, error) {
	conn, err := LoadConfig(o)
	if err != nil {
		return nil, Connection{}, err
	}
	c, err := NewForConfig(conn.Config, conn.Namespace, opts...)
	if err != nil {
		return nil, Connection{}, err
	}
	return c, conn, nil
}
