// Package native rewrites ClickHouse Native-format output written for client
// protocol revision 0 (what chDB produces) into the layout a client that
// announced a newer revision expects over HTTP: a BlockInfo header before
// each block and, from revision 54454, a "no custom serialization" flag after
// each column's type. The column data itself is the same at every revision,
// so the rewrite only has to find where each column's data ends; it knows the
// sizes of the common types and fails clearly on others.
package native

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Revisions at which the block layout changes.
const (
	RevisionBlockInfo           = 51903
	RevisionCustomSerialization = 54454
)

// blockInfo is field 1 (is_overflows = false), field 2 (bucket_num = -1), end.
var blockInfo = []byte{1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0}

// Rewrite converts revision-0 Native blocks to the layout of revision.
func Rewrite(in []byte, revision uint64) ([]byte, error) {
	if revision < RevisionBlockInfo {
		return in, nil
	}
	r := &reader{b: in}
	var out bytes.Buffer
	for r.off < len(r.b) {
		if err := rewriteBlock(r, &out, revision); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

func rewriteBlock(r *reader, out *bytes.Buffer, revision uint64) error {
	out.Write(blockInfo)
	start := r.off
	cols, err := r.uvarint()
	if err != nil {
		return err
	}
	rows, err := r.uvarint()
	if err != nil {
		return err
	}
	out.Write(r.b[start:r.off])
	for i := uint64(0); i < cols; i++ {
		hdr := r.off
		if _, err := r.str(); err != nil {
			return err
		}
		typ, err := r.str()
		if err != nil {
			return err
		}
		out.Write(r.b[hdr:r.off])
		if revision >= RevisionCustomSerialization {
			out.WriteByte(0)
		}
		data := r.off
		if err := skipColumn(r, typ, rows); err != nil {
			return fmt.Errorf("column %d (%s): %w", i, typ, err)
		}
		out.Write(r.b[data:r.off])
	}
	return nil
}

// fixedWidth holds the byte width of the fixed-size types by name.
var fixedWidth = map[string]int{
	"UInt8": 1, "Int8": 1, "Bool": 1, "Nothing": 1,
	"UInt16": 2, "Int16": 2, "Date": 2, "BFloat16": 2,
	"UInt32": 4, "Int32": 4, "Float32": 4, "DateTime": 4, "Date32": 4, "IPv4": 4, "Decimal32": 4, "Time": 4,
	"UInt64": 8, "Int64": 8, "Float64": 8, "DateTime64": 8, "Decimal64": 8, "Time64": 8,
	"UInt128": 16, "Int128": 16, "UUID": 16, "IPv6": 16, "Decimal128": 16,
	"UInt256": 32, "Int256": 32, "Decimal256": 32,
	"Enum8": 1, "Enum16": 2,
}

// skipColumn advances r past rows values of typ.
func skipColumn(r *reader, typ string, rows uint64) error {
	name, args := splitType(typ)
	if w, ok := fixedWidth[name]; ok {
		return r.skip(uint64(w) * rows)
	}
	switch name {
	case "Decimal":
		return skipDecimal(r, args, rows)
	case "String":
		for i := uint64(0); i < rows; i++ {
			if _, err := r.str(); err != nil {
				return err
			}
		}
		return nil
	case "FixedString":
		n, err := strconv.ParseUint(strings.TrimSpace(args), 10, 32)
		if err != nil {
			return fmt.Errorf("bad FixedString length %q", args)
		}
		return r.skip(n * rows)
	case "Nullable":
		if err := r.skip(rows); err != nil {
			return err
		}
		return skipColumn(r, args, rows)
	case "Array":
		return skipArray(r, args, rows)
	case "Map":
		kv := splitArgs(args)
		if len(kv) != 2 {
			return fmt.Errorf("bad Map arguments %q", args)
		}
		return skipArray(r, "Tuple("+kv[0]+", "+kv[1]+")", rows)
	case "Tuple":
		for _, el := range splitArgs(args) {
			if err := skipColumn(r, elementType(el), rows); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("type %s is not supported by the test front's Native rewrite", typ)
}

func skipArray(r *reader, elem string, rows uint64) error {
	if rows == 0 {
		return nil
	}
	if err := r.skip(8 * (rows - 1)); err != nil {
		return err
	}
	n, err := r.u64()
	if err != nil {
		return err
	}
	return skipColumn(r, elem, n)
}

func skipDecimal(r *reader, args string, rows uint64) error {
	parts := splitArgs(args)
	p, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil {
		return fmt.Errorf("bad Decimal precision %q", args)
	}
	w := 4
	switch {
	case p > 38:
		w = 32
	case p > 18:
		w = 16
	case p > 9:
		w = 8
	}
	return r.skip(uint64(w) * rows)
}

// splitType splits "Name(args)" into Name and args.
func splitType(t string) (string, string) {
	t = strings.TrimSpace(t)
	i := strings.IndexByte(t, '(')
	if i < 0 || !strings.HasSuffix(t, ")") {
		return t, ""
	}
	return t[:i], t[i+1 : len(t)-1]
}

// splitArgs splits type arguments on top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// elementType drops the name of a named tuple element ("a UInt8" → "UInt8"):
// a type itself has spaces only inside its parentheses.
func elementType(el string) string {
	if name, rest, ok := strings.Cut(el, " "); ok && !strings.Contains(name, "(") {
		return strings.TrimSpace(rest)
	}
	return el
}

// reader walks a byte slice.
type reader struct {
	b   []byte
	off int
}

var errShort = errors.New("native data ends early")

func (r *reader) skip(n uint64) error {
	if n > uint64(len(r.b)-r.off) {
		return errShort
	}
	r.off += int(n)
	return nil
}

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		return 0, errShort
	}
	r.off += n
	return v, nil
}

func (r *reader) u64() (uint64, error) {
	if len(r.b)-r.off < 8 {
		return 0, errShort
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v, nil
}

func (r *reader) str() (string, error) {
	n, err := r.uvarint()
	if err != nil {
		return "", err
	}
	start := r.off
	if err := r.skip(n); err != nil {
		return "", err
	}
	return string(r.b[start:r.off]), nil
}
