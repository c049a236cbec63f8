package geo

import (
	_ "embed"
	"encoding/json"
	"math"
	"sync"
)

// The border check is the union of the communes' outlines (Units.Placed).
// What the outlines cannot tell is which of their edges face the sea and
// which face Laos, Cambodia or China; Natural Earth's outline of the
// country can (see border/extract.py): its land-border arcs are kept here
// so that the coast buffer does not reach across a land border.
//
//go:embed border/vietnam.json
var borderJSON []byte

type segment struct {
	a, b                           Point
	minLat, maxLat, minLng, maxLng float64
}

var (
	landOnce     sync.Once
	landSegments []segment
)

func loadLandBorder() {
	var raw struct {
		Rings []struct {
			Points [][2]float64 `json:"points"`
			Coast  []int        `json:"coast"`
		} `json:"rings"`
	}
	if err := json.Unmarshal(borderJSON, &raw); err != nil {
		panic("geo: embedded border is corrupt: " + err.Error()) // a build defect, caught by every test
	}
	for _, r := range raw.Rings {
		for k := 1; k < len(r.Points); k++ {
			if r.Coast[k] == 1 {
				continue
			}
			a, b := Point{Lat: r.Points[k-1][1], Lng: r.Points[k-1][0]}, Point{Lat: r.Points[k][1], Lng: r.Points[k][0]}
			landSegments = append(landSegments, segment{a: a, b: b,
				minLat: math.Min(a.Lat, b.Lat), maxLat: math.Max(a.Lat, b.Lat), minLng: math.Min(a.Lng, b.Lng), maxLng: math.Max(a.Lng, b.Lng)})
		}
	}
}

// nearLandBorder reports whether p is within km of Vietnam's land border.
func nearLandBorder(p Point, km float64) bool {
	landOnce.Do(loadLandBorder)
	dLat := km / 110.57
	dLng := km / (111.32 * math.Max(0.1, math.Cos(p.Lat*math.Pi/180)))
	for i := range landSegments {
		s := &landSegments[i]
		if p.Lat < s.minLat-dLat || p.Lat > s.maxLat+dLat || p.Lng < s.minLng-dLng || p.Lng > s.maxLng+dLng {
			continue
		}
		if segmentDistanceKm(p, s.a, s.b) <= km {
			return true
		}
	}
	return false
}

// segmentDistanceKm is the distance from p to the segment ab, on a local
// flat projection (exact enough over a few kilometres).
func segmentDistanceKm(p, a, b Point) float64 {
	kx := 111.32 * math.Cos(p.Lat*math.Pi/180)
	const ky = 110.57
	ax, ay := (a.Lng-p.Lng)*kx, (a.Lat-p.Lat)*ky
	bx, by := (b.Lng-p.Lng)*kx, (b.Lat-p.Lat)*ky
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Hypot(x, y)
}
