package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

// op names one API request for error messages: verb, resource (with its API
// group when not core), namespace and object name.
type op struct {
	verb, resource, namespace, name string
}

func (o op) String() string {
	s := o.verb + " " + o.resource
	if o.name != "" {
		s += " " + o.name
	}
	if o.namespace != "" {
		s += " in namespace " + o.namespace
	}
	return s
}

// wrap maps a client-go error onto the platform sentinels and this package's
// errors, naming the request. nil stays nil.
func (c *Client) wrap(ctx context.Context, o op, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", o, context.Cause(ctx))
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		// No answer from the server: refused connection, reset, timeout, TLS.
		return fmt.Errorf("%s: %w: the API server did not answer: %w", o, platform.ErrUnavailable, err)
	}
	switch s := st.Status(); {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: %w", o, platform.ErrNotFound)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s: %w", o, platform.ErrConflict)
	case apierrors.IsForbidden(err):
		return forbidden(o, s)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w: check the token or client certificate of the kubeconfig context", o, ErrUnauthorized)
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return fmt.Errorf("%s: %w: %s", o, ErrInvalid, s.Message)
	case s.Code == http.StatusTooManyRequests, s.Code >= 500:
		return fmt.Errorf("%s: %w: %s (HTTP %d)", o, platform.ErrUnavailable, s.Message, s.Code)
	}
	return fmt.Errorf("%s: %w", o, err)
}

// forbidden explains an RBAC denial and how to fix it.
func forbidden(o op, s metav1.Status) error {
	return fmt.Errorf("%s: %w: the identity ops-skill runs as may not %s %s; apply deploy/rbac.yaml "+
		"(Role ops-skill) in namespace %s and bind it to that identity (server said: %s)",
		o, ErrForbidden, o.verb, o.resource, o.namespace, s.Message)
}

// isDisruptionBudget reports whether an eviction was refused because of a
// PodDisruptionBudget (HTTP 429 with a DisruptionBudget cause).
func isDisruptionBudget(err error) bool {
	if !apierrors.IsTooManyRequests(err) {
		return false
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	s := st.Status()
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Type == policyv1.DisruptionBudgetCause {
				return true
			}
		}
	}
	return containsFold(s.Message, "disruption budget")
}

// statusMessage is the server's message of an API error, or the error text.
func statusMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Message != "" {
		return st.Status().Message
	}
	return err.Error()
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
