package geo

import (
	"math"
	"testing"
)

// FuzzParseCell: any string a client sends as a cell either is refused or
// is a valid cell that prints back to itself, whose parents, centre and
// boundary are well-formed.
func FuzzParseCell(f *testing.F) {
	for _, seed := range []string{"8965b5625b3ffff", "8865b5625bfffff", "08965b5625b3ffff", "8965B5625B3FFFF", "", "ffffffffffffffff",
		"0x65b5625b3ffff", "-965b5625b3ffff", "8965b5625b3fff", "8965b5625b3ffff0", "8f2830828052d25"} {
		f.Add(seed, int8(-1))
		f.Add(seed, int8(9))
	}
	f.Fuzz(func(t *testing.T, s string, res int8) {
		c, err := ParseCell(s, int(res))
		if err != nil {
			return
		}
		if !c.Valid() || (res >= 0 && c.Resolution() != int(res)) {
			t.Fatalf("%q accepted as %v (res %d)", s, c, c.Resolution())
		}
		again, err := ParseCell(c.String(), c.Resolution())
		if err != nil || again != c {
			t.Fatalf("%q: %v does not print back (%v, %v)", s, c, again, err)
		}
		for r := 0; r <= c.Resolution(); r++ {
			if p, err := c.Parent(r); err != nil || p.Resolution() != r {
				t.Fatalf("%v: parent at %d: %v %v", c, r, p, err)
			}
		}
		ctr := c.Center()
		if math.IsNaN(ctr.Lat) || math.Abs(ctr.Lat) > 90 || math.Abs(ctr.Lng) > 180 {
			t.Fatalf("%v: centre %v", c, ctr)
		}
		if b := c.Boundary(); len(b) < 5 || len(b) > 10 {
			t.Fatalf("%v: boundary of %d points", c, len(b))
		}
	})
}
