package geo

import (
	_ "embed"
	"encoding/json"
	"math"
	"sync"
)

//go:embed border/vietnam.json
var borderJSON []byte

// CoastToleranceKm: a point this close to the coastline counts as inside,
// because the outline is quantised to about 200-400 m and fishing villages
// sit on the shore. Land borders get no tolerance.
const CoastToleranceKm = 1.0

type ring struct {
	pts                            []Point
	coast                          []bool // coast[k]: the edge from pts[k-1] to pts[k] is coastline
	minLat, maxLat, minLng, maxLng float64
}

var (
	borderOnce  sync.Once
	borderRings []ring
)

func loadBorder() {
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
		g := ring{minLat: 90, maxLat: -90, minLng: 180, maxLng: -180}
		for k, p := range r.Points {
			pt := Point{Lat: p[1], Lng: p[0]}
			g.pts = append(g.pts, pt)
			g.coast = append(g.coast, r.Coast[k] == 1)
			g.minLat, g.maxLat = math.Min(g.minLat, pt.Lat), math.Max(g.maxLat, pt.Lat)
			g.minLng, g.maxLng = math.Min(g.minLng, pt.Lng), math.Max(g.maxLng, pt.Lng)
		}
		borderRings = append(borderRings, g)
	}
}

// InVietnam reports whether p lies inside Vietnam's outline (mainland and
// the islands Natural Earth draws with it), or within CoastToleranceKm of
// its coastline.
func InVietnam(p Point) bool {
	borderOnce.Do(loadBorder)
	inside := false
	for i := range borderRings {
		r := &borderRings[i]
		if p.Lat < r.minLat || p.Lat > r.maxLat || p.Lng < r.minLng || p.Lng > r.maxLng {
			continue
		}
		if r.contains(p) {
			inside = !inside // even-odd: a hole inside an outer ring flips back
		}
	}
	if inside {
		return true
	}
	// ~0.01° is about 1.1 km: only rings that come that close can be near.
	const pad = 0.02
	for i := range borderRings {
		r := &borderRings[i]
		if p.Lat < r.minLat-pad || p.Lat > r.maxLat+pad || p.Lng < r.minLng-pad || p.Lng > r.maxLng+pad {
			continue
		}
		for k := 1; k < len(r.pts); k++ {
			if r.coast[k] && segmentDistanceKm(p, r.pts[k-1], r.pts[k]) <= CoastToleranceKm {
				return true
			}
		}
	}
	return false
}

// contains is the even-odd ray test of p against the ring.
func (r *ring) contains(p Point) bool {
	in := false
	n := len(r.pts)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r.pts[i], r.pts[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lng < (b.Lng-a.Lng)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lng {
			in = !in
		}
	}
	return in
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
