package geo

import (
	"math"

	"github.com/uber/h3-go/v4"
)

// edgeKm is the shortest and longest H3 edge at each resolution over
// Vietnam's latitudes (8°N-24°N), measured from 20,000 sampled cells per
// resolution (TestEdgeLengthsOverVietnam). Cells there are larger than
// H3's global average.
var edgeKm = map[int][2]float64{
	7: {1.37, 1.55},
	8: {0.52, 0.59},
	9: {0.195, 0.222},
}

// IndexResolution picks the resolution of the mentor index for a search
// radius: resolution 8 (cells of about 0.9 km² here) up to 5 km, resolution
// 7 beyond, so that even a 15 km search looks at no more than 271 cells.
func IndexResolution(radiusKm float64) int {
	if radiusKm <= 5 {
		return 8
	}
	return 7
}

// RingsFor is the number k of H3 rings at resolution res such that every
// point within radiusKm of any point of a cell lies in a cell of that
// cell's k-disk. A point of the centre cell is at most one edge from its
// centre, and so is a point from its own cell's centre; and a cell whose
// centre lies within D of the centre is at most D / (1.5 · edge) rings away
// (the inradius of the k-th ring is 1.5·k·edge). TestRingsCoverRadius
// checks it on random pairs across Vietnam.
func RingsFor(radiusKm float64, res int) int {
	e, ok := edgeKm[res]
	if !ok || radiusKm < 0 {
		return 0
	}
	return int(math.Ceil((radiusKm + 2*e[1]) / (1.5 * e[0])))
}

// CellAt is the cell of p at resolution res, for indexes; the exact point
// is still not to be kept.
func CellAt(p Point, res int) Cell {
	return Cell(h3.LatLngToCell(h3.LatLng{Lat: p.Lat, Lng: p.Lng}, res))
}

// Disk is the cell and every cell within k rings of it, ring by ring
// outward (the centre first).
func (c Cell) Disk(k int) []Cell {
	rings := h3.Cell(c).GridDiskDistances(k)
	var out []Cell
	for _, ring := range rings {
		for _, x := range ring {
			out = append(out, Cell(x))
		}
	}
	return out
}

// Rings is how many rings apart two cells of one resolution are, or -1
// when H3 cannot say (h3-go answers 0 rather than an error for cells far
// apart, so 0 is trusted only for the same cell).
func (c Cell) Rings(o Cell) int {
	if c == o {
		return 0
	}
	if c.Resolution() != o.Resolution() {
		return -1
	}
	d := h3.Cell(c).GridDistance(h3.Cell(o))
	if d <= 0 {
		return -1
	}
	return d
}

// Boundary is the cell's outline, its corners in order.
func (c Cell) Boundary() []Point {
	b := h3.Cell(c).Boundary()
	out := make([]Point, len(b))
	for i, p := range b {
		out[i] = Point{Lat: p.Lat, Lng: p.Lng}
	}
	return out
}

// DistanceKm is the distance between the centres of two cells.
func (c Cell) DistanceKm(o Cell) float64 { return DistanceKm(c.Center(), o.Center()) }
