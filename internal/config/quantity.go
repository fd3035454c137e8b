package config

import (
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// errQuantity is returned by ParseBytes for a malformed or out-of-range size.
var errQuantity = errors.New("not a byte quantity")

// quantityRE matches a Kubernetes-style quantity: a decimal number, then an
// optional binary (Ki…Ei) or decimal (k…E) suffix or a decimal exponent.
var quantityRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|[eE][0-9]+)?$`)

type byteUnit struct {
	suffix string
	mult   int64
}

// byteUnits lists the binary then the decimal quantity suffixes.
func byteUnits() []byteUnit {
	return []byteUnit{
		{"Ei", 1 << 60}, {"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10},
		{"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3},
	}
}

// ParseBytes parses a byte count written as a plain integer or a Kubernetes
// quantity ("512Mi", "16Gi", "8G", "1.5Gi", "1e9"); a trailing "B" ("500GB",
// "16GiB") is tolerated. The result must be a whole, non-negative number of
// bytes that fits in an int64.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, "B")
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, errQuantity
	}
	num, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, errQuantity
	}
	mult := suffixMultiplier(m[2])
	if mult == nil {
		return 0, errQuantity
	}
	num.Mul(num, new(big.Rat).SetInt(mult))
	if !num.IsInt() || !num.Num().IsInt64() {
		return 0, errQuantity
	}
	return num.Num().Int64(), nil
}

// maxExponent bounds "1eN" so a hostile value cannot make a huge number;
// 10^19 already exceeds int64.
const maxExponent = 30

// suffixMultiplier returns the multiplier of a quantity suffix, or nil.
func suffixMultiplier(suffix string) *big.Int {
	switch {
	case suffix == "":
		return big.NewInt(1)
	case suffix == "K":
		return big.NewInt(1000)
	case len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E'):
		if exp, err := strconv.Atoi(suffix[1:]); err == nil { // "e9"; "Ei" falls through
			if exp > maxExponent {
				return nil
			}
			return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)
		}
	}
	for _, u := range byteUnits() {
		if u.suffix == suffix {
			return big.NewInt(u.mult)
		}
	}
	return big.NewInt(1)
}

// FormatBytes renders a byte count as the shortest exact quantity (binary
// suffixes win ties): 16Gi, 500G, 1536Mi, or plain digits.
func FormatBytes(n int64) string {
	best := strconv.FormatInt(n, 10)
	if n == 0 {
		return best
	}
	for _, u := range byteUnits() {
		if n%u.mult != 0 {
			continue
		}
		if s := strconv.FormatInt(n/u.mult, 10) + u.suffix; len(s) < len(best) {
			best = s
		}
	}
	return best
}

func formatByteSize(n int64) string { return FormatBytes(n) }
