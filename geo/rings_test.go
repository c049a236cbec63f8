package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/uber/h3-go/v4"
)

// TestEdgeLengthsOverVietnam re-measures the edge lengths RingsFor relies
// on, so that a change of H3 or of the constants is caught.
func TestEdgeLengthsOverVietnam(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for res, bounds := range edgeKm {
		mn, mx := math.Inf(1), 0.0
		for range 20000 {
			c := h3.LatLngToCell(h3.LatLng{Lat: 8 + r.Float64()*16, Lng: 102 + r.Float64()*8}, res)
			for _, e := range c.DirectedEdges() {
				mn, mx = math.Min(mn, h3.EdgeLengthKm(e)), math.Max(mx, h3.EdgeLengthKm(e))
			}
		}
		t.Logf("resolution %d: edges %.3f to %.3f km over Vietnam", res, mn, mx)
		if mn < bounds[0] || mx > bounds[1] {
			t.Errorf("resolution %d: measured %.4f..%.4f km, outside the constants %v", res, mn, mx, bounds)
		}
	}
}

// TestRingsCoverRadius: for random points P across Vietnam and points Q at
// most r from P, Q's cell is in the RingsFor(r)-disk of P's cell. It also
// states the rings measured to be needed beside those RingsFor gives.
//
// Measured here (20,000 pairs each): at resolution 8, 2 km needed 3 rings
// (RingsFor gives 5) and 5 km 7 (gives 8); at resolution 7, 10 km needed 5
// (gives 7) and 15 km 7 (gives 9, 271 cells).
func TestRingsCoverRadius(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		res    int
		radius float64
	}{{8, 0.5}, {8, 1}, {8, 2}, {8, 3}, {8, 5}, {7, 5}, {7, 8}, {7, 10}, {7, 15}} {
		k := RingsFor(tc.radius, tc.res)
		needed := 0
		for range 20000 {
			p := Point{8.5 + r.Float64()*15, 102.5 + r.Float64()*7}
			// Q at distance d <= r in a random direction, at the edge more often.
			d := tc.radius * math.Sqrt(r.Float64())
			a := r.Float64() * 2 * math.Pi
			q := Point{p.Lat + d*math.Sin(a)/110.57, p.Lng + d*math.Cos(a)/(111.32*math.Cos(p.Lat*math.Pi/180))}
			if DistanceKm(p, q) > tc.radius {
				continue
			}
			cp, cq := CellAt(p, tc.res), CellAt(q, tc.res)
			g := h3.Cell(cp).GridDistance(h3.Cell(cq))
			needed = max(needed, g)
			if g > k {
				t.Fatalf("res %d, %.1f km: a point %.3f km away is %d rings out, RingsFor gives %d", tc.res, tc.radius, DistanceKm(p, q), g, k)
			}
		}
		t.Logf("resolution %d, radius %4.1f km: %d rings needed, RingsFor gives %d (%d cells)", tc.res, tc.radius, needed, k, len(CellAt(Point{21, 105}, tc.res).Disk(k)))
	}
}

func TestDisk(t *testing.T) {
	c := CellAt(Point{21.0285, 105.8542}, 8)
	d := c.Disk(2)
	if len(d) != 19 || d[0] != c {
		t.Fatalf("disk of 2 rings: %d cells, first %v", len(d), d[0])
	}
}
