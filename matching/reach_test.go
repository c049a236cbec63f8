package matching

import (
	"math"
	"math/rand/v2"
	"testing"

	"daisuso/geo"
)

// TestGridWindowCoversRadius puts points due east, west, north and south
// of a point at just under a radius, from the south of Vietnam to the
// north, and checks that the window of that radius holds the cells of all
// of them. Pricing proves a batch optimal only over the pairs the reach
// index finds, so a pair missed is an optimum missed: windows 0.18% too
// narrow east-west (111.4 km taken for a degree of longitude at the
// equator, which is 111.2) once left a pair at 2,998 m of a 3 km radius
// out, and the clustered province 62 m longer than its optimum.
func TestGridWindowCoversRadius(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, lat := range []float64{8.6, 16.0, 23.3} {
		for _, rKm := range radiusClasses {
			var points []geo.Point
			var from []geo.Point
			for range 2000 {
				p := geo.Point{Lat: lat + (r.Float64()-0.5)*0.2, Lng: 105 + (r.Float64()-0.5)*0.4}
				for _, dir := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					from = append(from, p)
					points = append(points, along(p, dir, rKm*(1-1e-9)))
				}
			}
			members := make([]int32, len(points))
			for i := range members {
				members[i] = int32(i)
			}
			g := newGrid(points, members, rKm/2)
			for i, p := range from {
				in := false
				g.window(p, rKm, func(ms []int32) {
					for _, j := range ms {
						in = in || j == int32(i)
					}
				})
				if !in {
					t.Fatalf("latitude %v, radius %v km: a point %.1f m away (%v from %v) is outside the window",
						lat, rKm, 1000*geo.DistanceKm(p, points[i]), points[i], p)
				}
			}
		}
	}
}

// along is the point d km from p, due east or west (dir {±1, 0}) or north
// or south ({0, ±1}), by bisection on the great-circle distance.
func along(p geo.Point, dir [2]float64, d float64) geo.Point {
	lo, hi := 0.0, 1.0 // degrees
	at := func(x float64) geo.Point { return geo.Point{Lat: p.Lat + dir[1]*x, Lng: p.Lng + dir[0]*x} }
	for range 100 {
		mid := (lo + hi) / 2
		if geo.DistanceKm(p, at(mid)) < d {
			lo = mid
		} else {
			hi = mid
		}
	}
	return at(lo)
}

// TestReachIndexFindsEveryPair checks the reach index against testing every
// mentor group, for requests placed around mentors at about their radius
// in every direction, from the south of Vietnam to the north.
func TestReachIndexFindsEveryPair(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, lat := range []float64{8.9, 16.0, 23.2} {
		centre := geo.Point{Lat: lat, Lng: 105.5}
		var ms []Mentor
		var reqs []geo.Cell
		for range 300 {
			m := Mentor{Cell: geo.CellAt(pointAt(centre, (r.Float64()-0.5)*60, (r.Float64()-0.5)*60), geo.HomeResolution),
				RadiusKm: []float64{0.7, 1, 2, 2.5, 3, 5, 8, 10, 12, 15, 20}[r.IntN(11)]}
			ms = append(ms, m)
			c := m.Cell.Center()
			for range 8 {
				bearing, d := r.Float64()*2*math.Pi, min(m.RadiusKm, MaxRadiusKm)*(0.97+r.Float64()*0.06)
				reqs = append(reqs, geo.CellAt(pointAt(c, d*math.Sin(bearing), d*math.Cos(bearing)), geo.HomeResolution))
			}
		}
		p := group(nil, ms, nil)
		idx := newReachIndex(p.mg)
		found, near := 0, 0
		for _, cell := range reqs {
			c := cell.Center()
			seen := map[int32]bool{}
			idx.visit(c, func(j int32, _ float64) { seen[j] = true })
			v := toVec3(c)
			for j := range p.mg {
				_, in := idx.covers(v, c, int32(j))
				if in != seen[int32(j)] {
					t.Fatalf("latitude %v: mentor group %d (radius %v km) at %.0f m: in reach %v, found by the index %v",
						lat, j, idx.radius[j], float64(idx.metres(c, int32(j))), in, seen[int32(j)])
				}
				if in {
					found++
					if float64(idx.metres(c, int32(j))) > 990*idx.radius[j] {
						near++
					}
				}
			}
		}
		if near < 100 {
			t.Fatalf("latitude %v: only %d of %d pairs within 1%% of the radius: the test does not probe the edge", lat, near, found)
		}
	}
}
