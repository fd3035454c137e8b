// Package units parses and formats the quantities ops-skill shows and accepts:
// byte sizes in Kubernetes notation ("512Mi", "8Gi", "1.5G") and short durations.
package units

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrQuantity marks a value that is not a byte quantity.
var ErrQuantity = errors.New("invalid byte quantity")

// IBytes formats a size with binary suffixes, as Kubernetes limits are written ("4Gi").
func IBytes(b int64) string {
	const unit = 1 << 10
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	units := []string{"Ki", "Mi", "Gi", "Ti", "Pi"}
	v, i := float64(b)/unit, 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return trimZero(v) + units[i]
}

// ExactIBytes formats a size exactly, in the largest binary unit that
// divides it ("15Gi", "13653Mi", "1000B"), so that ParseBytes reads back the
// same number of bytes (IBytes rounds to two decimals).
func ExactIBytes(b int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(b/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(b, 10)
}

// Bytes formats a size with decimal suffixes, as disks are sold ("850 GB", "1.00 TB").
func Bytes(b uint64) string {
	const unit = 1000
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB"}
	v, i := float64(b)/unit, 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return trimZero(v) + " " + units[i]
}

func trimZero(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Duration formats a duration compactly: "45s", "3m", "2m30s", "1h5m", "3d4h".
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return joinUnits(int(d/time.Minute), "m", int(d%time.Minute/time.Second), "s")
	case d < 48*time.Hour:
		return joinUnits(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "m")
	}
	return joinUnits(int(d/(24*time.Hour)), "d", int(d%(24*time.Hour)/time.Hour), "h")
}

func joinUnits(a int, au string, b int, bu string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, au)
	}
	return fmt.Sprintf("%d%s%d%s", a, au, b, bu)
}
