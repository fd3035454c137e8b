package tools

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/duet-company/ops-skill/internal/text"
)

// WorkloadArgs names the workload a tool targets; every workload tool embeds it.
type WorkloadArgs struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (w WorkloadArgs) namespace() string { return w.Namespace }
func (w WorkloadArgs) target() string    { return w.Namespace + "/" + w.Name }

// Validate checks both names are well-formed Kubernetes names.
func (w WorkloadArgs) Validate() error {
	return errors.Join(checkName("namespace", w.Namespace, 63), checkName("name", w.Name, 253))
}

// checkName checks a Kubernetes name with apimachinery's own rules: a DNS-1123
// label when max is 63 or less (namespaces, containers), else a DNS-1123
// subdomain (workloads, pods, services).
func checkName(field, v string, max int) error {
	if v == "" {
		return fmt.Errorf("field %q is required", field)
	}
	problems := validation.IsDNS1123Subdomain(v)
	if max <= validation.DNS1123LabelMaxLength {
		problems = validation.IsDNS1123Label(v)
	}
	if len(problems) > 0 {
		return fmt.Errorf("field %q = %q is not a valid Kubernetes name (lowercase letters, digits and '-', at most %d characters): %s",
			field, text.Clip(v, 80), max, text.Clip(strings.Join(problems, "; "), 300))
	}
	return nil
}

func checkLen(field, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("field %q is %d characters, at most %d allowed", field, len(v), max)
	}
	return nil
}

func checkEnum(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("field %q = %q is not one of %s", field, text.Clip(v, 40), strings.Join(allowed, ", "))
}
