package tools

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/duet-company/ops-skill/internal/text"
)

// dns1123 is the shape of Kubernetes namespace and object names.
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

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

func checkName(field, v string, max int) error {
	switch {
	case v == "":
		return fmt.Errorf("field %q is required", field)
	case len(v) > max || !dns1123.MatchString(v):
		return fmt.Errorf("field %q = %q is not a valid Kubernetes name (lowercase letters, digits and '-', at most %d characters)", field, text.Clip(v, 80), max)
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
