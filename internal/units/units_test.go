package units

import (
	"errors"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"8Gi", 8 << 30, false},
		{"512Mi", 512 << 20, false},
		{"1.5G", 1500000000, false},
		{"1048576", 1 << 20, false},
		{"16GiB", 16 << 30, false},
		{"", 0, true},
		{"-1Gi", 0, true},
		{"lots", 0, true},
		{"NaNGi", 0, true},
		{"1e30Pi", 0, true},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if c.err {
			if !errors.Is(err, ErrQuantity) {
				t.Errorf("ParseBytes(%q) err = %v, want ErrQuantity", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	if got := IBytes(4 << 30); got != "4Gi" {
		t.Errorf("IBytes(4Gi) = %q", got)
	}
	if got := IBytes(6657199308); got != "6.2Gi" {
		t.Errorf("IBytes = %q", got)
	}
	if got := Bytes(850e9); got != "850 GB" {
		t.Errorf("Bytes(850e9) = %q", got)
	}
	if got := Bytes(1e12); got != "1 TB" {
		t.Errorf("Bytes(1e12) = %q", got)
	}
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 3 * time.Minute: "3m", 150 * time.Second: "2m30s",
		65 * time.Minute: "1h5m", 76 * time.Hour: "3d4h", -2 * time.Minute: "-2m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
