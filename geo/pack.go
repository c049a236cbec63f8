package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/paulmach/orb"
)

// The embedded copy of the official list (geo/units: units.json as given,
// with its LICENSE) carries its outlines packed: communes.geojson is 13 MB
// and ten times slower to decode, under the race detector too, which every
// test process would pay (docs/PERFORMANCE.md, BenchmarkOutlinesDecode). A
// list given by setting (UNITS_DIR) is read as GeoJSON. `go generate ./geo`
// repacks.
//
//go:generate go run ./units/pack.go ../../shared/data/vn-units units
var (
	//go:embed units/units.json
	embeddedList []byte
	//go:embed units/communes.bin.gz
	embeddedOutlines []byte
)

var (
	embeddedOnce  sync.Once
	embeddedUnits *Units
)

// EmbeddedUnits is the list built into the binary.
func EmbeddedUnits() *Units {
	embeddedOnce.Do(func() {
		u, err := ParseUnitsList(embeddedList)
		if err == nil {
			err = u.AddOutlinesPacked(embeddedOutlines)
		}
		if err != nil {
			panic("geo: embedded list of units is corrupt: " + err.Error()) // a build defect, caught by every test
		}
		embeddedUnits = u
	})
	return embeddedUnits
}

// packMagic opens the packed outlines; the list's version follows, so that
// outlines are never paired with another list.
const packMagic = "VNU1"

// PackOutlines writes the outlines gzipped: per commune its code, its
// polygons and rings, and each point as the zigzag-varint difference from
// the one before in units of 1e-5 degree (the source's precision).
func (u *Units) PackOutlines(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	var buf [binary.MaxVarintLen64]byte
	uv := func(v uint64) { bw.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	sv := func(v int64) { bw.Write(buf[:binary.PutVarint(buf[:], v)]) }
	bw.WriteString(packMagic)
	uv(uint64(len(u.Version)))
	bw.WriteString(u.Version)
	uv(uint64(len(u.shapes)))
	var x, y int64
	for _, s := range u.shapes {
		bw.WriteString(s.code)
		uv(uint64(len(s.polys)))
		for _, p := range s.polys {
			uv(uint64(len(p)))
			for _, r := range p {
				uv(uint64(len(r)))
				for _, pt := range r {
					nx, ny := int64(math.Round(pt[0]*1e5)), int64(math.Round(pt[1]*1e5))
					sv(nx - x)
					sv(ny - y)
					x, y = nx, ny
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// maxPackCount bounds every count in a packed file, so that a corrupt one
// fails instead of allocating without end.
const maxPackCount = 1 << 22

// AddOutlinesPacked reads outlines written by PackOutlines for this list.
func (u *Units) AddOutlinesPacked(data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return invalid("packed outlines: %v", err)
	}
	r := bufio.NewReader(zr)
	count := func() (int, error) {
		v, err := binary.ReadUvarint(r)
		if err == nil && v > maxPackCount {
			err = fmt.Errorf("count %d", v)
		}
		return int(v), err
	}
	head := make([]byte, len(packMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != packMagic {
		return invalid("packed outlines: not a pack")
	}
	n, err := count()
	if err != nil {
		return invalid("packed outlines: %v", err)
	}
	version := make([]byte, n)
	if _, err := io.ReadFull(r, version); err != nil || string(version) != u.Version {
		return invalid("packed outlines are of list %q, not %q", version, u.Version)
	}
	shapes, err := readShapes(r, count)
	if err != nil {
		return invalid("packed outlines: %v", err)
	}
	return u.setShapes(shapes)
}

func readShapes(r *bufio.Reader, count func() (int, error)) ([]shape, error) {
	n, err := count()
	if err != nil {
		return nil, err
	}
	shapes := make([]shape, n)
	var x, y int64
	code := make([]byte, 5)
	for i := range shapes {
		if _, err := io.ReadFull(r, code); err != nil {
			return nil, err
		}
		shapes[i].code = string(code)
		np, err := count()
		if err != nil {
			return nil, err
		}
		shapes[i].polys = make([]orb.Polygon, np)
		for k := range shapes[i].polys {
			nr, err := count()
			if err != nil {
				return nil, err
			}
			poly := make(orb.Polygon, nr)
			for j := range poly {
				npt, err := count()
				if err != nil {
					return nil, err
				}
				ring := make(orb.Ring, npt)
				for m := range ring {
					dx, err1 := binary.ReadVarint(r)
					dy, err2 := binary.ReadVarint(r)
					if err := errors.Join(err1, err2); err != nil {
						return nil, err
					}
					x, y = x+dx, y+dy
					ring[m] = orb.Point{float64(x) / 1e5, float64(y) / 1e5}
				}
				poly[j] = ring
			}
			shapes[i].polys[k] = poly
		}
	}
	return shapes, nil
}
