package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/duet-company/ops-skill/internal/units"
)

// Bytes is a byte quantity written in a scenario as a plain number or with a
// unit: decimal (KB, MB, GB, TB, also K, M, G, T) or binary (Ki, Mi, Gi, Ti,
// also KiB, MiB, GiB, TiB), e.g. "4Gi", "6.2Gi", "850GB", "1e12".
type Bytes int64

// ParseBytes parses a byte quantity such as "4Gi", "6.2Gi" or "850GB"
// (units.ParseMeasuredBytes: scenarios describe measured sizes).
func ParseBytes(s string) (Bytes, error) {
	b, err := units.ParseMeasuredBytes(s)
	return Bytes(b), err
}

// UnmarshalYAML decodes a scalar byte quantity.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: byte quantity must be a scalar", n.Line)
	}
	v, err := ParseBytes(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// GiB renders the quantity as binary gigabytes with two decimals, e.g. "6.20 GiB".
func (b Bytes) GiB() string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

// Millis is a CPU quantity in millicores written as "500m", "2" or "0.5".
type Millis int64

// ParseMillis parses a CPU quantity.
func ParseMillis(s string) (Millis, error) {
	num, unit := splitQuantity(s)
	mult := 1000.0
	switch unit {
	case "":
	case "m":
		mult = 1
	default:
		return 0, fmt.Errorf("cpu quantity %q: unknown unit %q (use cores or m)", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("cpu quantity %q: not a non-negative number", s)
	}
	return Millis(math.Round(v * mult)), nil
}

// UnmarshalYAML decodes a scalar CPU quantity.
func (m *Millis) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: cpu quantity must be a scalar", n.Line)
	}
	v, err := ParseMillis(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*m = v
	return nil
}

// splitQuantity splits "6.2Gi" into "6.2" and "Gi". An exponent ("1e12") stays
// with the number.
func splitQuantity(s string) (num, unit string) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			i--
			continue
		}
		break
	}
	return strings.TrimSpace(s[:i]), s[i:]
}
