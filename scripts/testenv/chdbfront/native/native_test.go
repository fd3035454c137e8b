package native

import (
	"bytes"
	"errors"
	"testing"
)

// block builds a revision-0 Native block with the given columns.
func block(rows uint64, cols ...[3][]byte) []byte {
	b := []byte{byte(len(cols)), byte(rows)}
	for _, c := range cols {
		b = append(b, byte(len(c[0])))
		b = append(b, c[0]...)
		b = append(b, byte(len(c[1])))
		b = append(b, c[1]...)
		b = append(b, c[2]...)
	}
	return b
}

func col(name, typ string, data []byte) [3][]byte { return [3][]byte{[]byte(name), []byte(typ), data} }

func TestRewriteAddsBlockInfoAndSerializationFlags(t *testing.T) {
	in := block(2,
		col("s", "String", []byte{1, 'a', 2, 'b', 'c'}),
		col("n", "Nullable(UInt16)", []byte{0, 1, 7, 0, 0, 0}),
		col("a", "Array(UInt8)", []byte{1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7}),
		col("t", "Tuple(x DateTime('UTC'), y FixedString(2))", []byte{1, 2, 3, 4, 5, 6, 7, 8, 'a', 'b', 'c', 'd'}),
	)
	in = append(in, block(0, col("s", "String", nil))...)
	got, err := Rewrite(in, RevisionCustomSerialization)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{}, blockInfo...)
	want = append(want, 4, 2)
	want = append(want, 1, 's', 6, 'S', 't', 'r', 'i', 'n', 'g', 0, 1, 'a', 2, 'b', 'c')
	want = append(want, 1, 'n', 16)
	want = append(want, "Nullable(UInt16)"...)
	want = append(want, 0, 0, 1, 7, 0, 0, 0)
	want = append(want, 1, 'a', 12)
	want = append(want, "Array(UInt8)"...)
	want = append(want, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7)
	want = append(want, 1, 't', 42)
	want = append(want, "Tuple(x DateTime('UTC'), y FixedString(2))"...)
	want = append(want, 0, 1, 2, 3, 4, 5, 6, 7, 8, 'a', 'b', 'c', 'd')
	want = append(want, blockInfo...)
	want = append(want, 1, 0, 1, 's', 6, 'S', 't', 'r', 'i', 'n', 'g', 0)
	if !bytes.Equal(got, want) {
		t.Fatalf("rewrite:\n got %v\nwant %v", got, want)
	}
}

func TestRewriteKeepsRevisionZeroOutput(t *testing.T) {
	in := block(1, col("u", "UInt8", []byte{5}))
	got, err := Rewrite(in, 0)
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("got %v, %v; want the input unchanged", got, err)
	}
}

func TestRewriteFailsOnTruncatedOrUnknownData(t *testing.T) {
	for name, in := range map[string][]byte{
		"truncated": block(2, col("u", "UInt64", []byte{1, 2, 3})),
		"unknown":   block(1, col("j", "JSON", []byte{1})),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Rewrite(in, RevisionCustomSerialization); err == nil {
				t.Fatal("want an error")
			} else if name == "truncated" && !errors.Is(err, errShort) {
				t.Fatalf("want errShort, got %v", err)
			}
		})
	}
}
