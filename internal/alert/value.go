package alert

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// valueRE is a decimal number as a rule's template writes it ("85",
// "-0.25", "1e3"), optionally a percent; hexadecimal, "NaN" and "Inf",
// which strconv.ParseFloat also reads, are not values of an alert.
var valueRE = regexp.MustCompile(`^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$`)

// parseValue reads the value annotation as written: "85", "85%" and
// "-85%" are 85, 85 and -85; anything else is no value.
func parseValue(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	s = strings.Replace(s, "−", "-", 1) // U+2212, the minus sign of typeset text
	if !valueRE.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}
