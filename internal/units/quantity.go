package units

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

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
	num, err := parseQuantity(s)
	if err != nil {
		return 0, err
	}
	if !num.IsInt() || !num.Num().IsInt64() {
		return 0, quantityError(s)
	}
	return num.Num().Int64(), nil
}

// ParseMeasuredBytes reads a measured size in the same notation, where a
// fraction of a byte is meaningful only as rounding ("2.6Gi" of data on a
// disk): the value is rounded to the nearest byte. Limits and configuration
// use ParseBytes, which refuses fractions.
func ParseMeasuredBytes(s string) (int64, error) {
	num, err := parseQuantity(s)
	if err != nil {
		return 0, err
	}
	half := big.NewRat(1, 2)
	rounded := new(big.Int).Quo(new(big.Rat).Add(num, half).Num(), new(big.Rat).Add(num, half).Denom())
	if !rounded.IsInt64() {
		return 0, quantityError(s)
	}
	return rounded.Int64(), nil
}

// parseQuantity reads the number and suffix of a byte quantity exactly.
func parseQuantity(s string) (*big.Rat, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	m := quantityRE.FindStringSubmatch(t)
	if m == nil {
		return nil, quantityError(s)
	}
	num, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return nil, quantityError(s)
	}
	mult := suffixMultiplier(m[2])
	if mult == nil {
		return nil, quantityError(s)
	}
	return num.Mul(num, new(big.Rat).SetInt(mult)), nil
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

func quantityError(s string) error {
	return fmt.Errorf("%w %q: use a whole number of bytes, optionally with a suffix, such as 512Mi, 8Gi or 2G", ErrQuantity, s)
}
