package config

import "github.com/duet-company/ops-skill/internal/units"

// ParseBytes parses a byte count (units.ParseBytes: a plain integer or a
// Kubernetes quantity such as "512Mi", "16Gi", "8G"; a trailing "B" is
// tolerated).
func ParseBytes(s string) (int64, error) { return units.ParseBytes(s) }

// FormatBytes renders a byte count as the shortest exact quantity (units.FormatBytes).
func FormatBytes(n int64) string { return units.FormatBytes(n) }

func formatByteSize(n int64) string { return units.FormatBytes(n) }
