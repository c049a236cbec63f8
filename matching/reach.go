package matching

import (
	"math"

	"daisuso/geo"
)

// reachIndex answers "which mentors can reach this point" for the batch
// matcher without H3 calls or trigonometry per pair: mentors sit in flat
// latitude-longitude grids, one per class of radius, and a pair is tested
// by the chord between the two points in three dimensions, which grows
// with the great-circle distance (d = 2R·asin(chord/2R)). Pairs within a
// hair of a mentor's radius are decided by geo.DistanceKm itself, so the
// index agrees with the online matcher to the last metre.
type reachIndex struct {
	xyz     []vec3
	thr2    []float64 // squared chord of each mentor's radius
	centres []geo.Point
	radius  []float64 // km, capped at MaxRadiusKm
	classes []reachClass
}

type vec3 struct{ x, y, z float64 }

const earthKm = 6371.0088 // as geo.DistanceKm

func toVec3(p geo.Point) vec3 {
	la, ln := p.Lat*math.Pi/180, p.Lng*math.Pi/180
	return vec3{earthKm * math.Cos(la) * math.Cos(ln), earthKm * math.Cos(la) * math.Sin(ln), earthKm * math.Sin(la)}
}

func chord2(a, b vec3) float64 {
	dx, dy, dz := a.x-b.x, a.y-b.y, a.z-b.z
	return dx*dx + dy*dy + dz*dz
}

// chordKm is the chord of a great-circle distance.
func chordKm(d float64) float64 { return 2 * earthKm * math.Sin(d/(2*earthKm)) }

// radiusClasses bound the classes of the index: a mentor goes to the first
// class not smaller than their radius.
var radiusClasses = []float64{1, 2, 3, 5, 8, 10, MaxRadiusKm}

// grid holds points in flat latitude-longitude cells.
type grid struct {
	lat0, lng0       float64
	cellLat, cellLng float64 // degrees
	nx, ny           int
	start, members   []int32
	minLat, maxLat   float64
	minLng, maxLng   float64
}

// reachClass is a grid of the mentors of a class, in cells about half its
// radius wide.
type reachClass struct {
	radiusKm float64
	grid
}

func newReachIndex(ms []mentorGroup) *reachIndex {
	x := &reachIndex{
		xyz:     make([]vec3, len(ms)),
		thr2:    make([]float64, len(ms)),
		centres: make([]geo.Point, len(ms)),
		radius:  make([]float64, len(ms)),
	}
	byClass := make([][]int32, len(radiusClasses))
	for j, m := range ms {
		r := max(0, min(m.radiusKm, MaxRadiusKm))
		c := m.cell.Center()
		x.centres[j], x.xyz[j], x.radius[j] = c, toVec3(c), r
		ch := chordKm(r)
		x.thr2[j] = ch * ch
		k := 0
		for k < len(radiusClasses)-1 && radiusClasses[k] < r {
			k++
		}
		byClass[k] = append(byClass[k], int32(j))
	}
	for k, members := range byClass {
		if len(members) > 0 {
			x.classes = append(x.classes, reachClass{radiusKm: radiusClasses[k], grid: newGrid(x.centres, members, radiusClasses[k]/2)})
		}
	}
	return x
}

// kmPerDeg is taken for the kilometres in a degree of latitude, and of
// longitude at the equator: on the sphere of geo.DistanceKm a degree is
// 111.195 km, and dividing by less makes windows come out wider, never
// narrower, than the radius needs (111.4 for longitude once made them
// 0.18% too narrow, and a pair at 2,998 m of a 3 km radius was missed).
const kmPerDeg = 111.0

// newGrid puts the points of members (indexes into points) in cells about
// cellKm wide.
func newGrid(points []geo.Point, members []int32, cellKm float64) grid {
	c := grid{minLat: 90, maxLat: -90, minLng: 180, maxLng: -180}
	for _, j := range members {
		p := points[j]
		c.minLat, c.maxLat = min(c.minLat, p.Lat), max(c.maxLat, p.Lat)
		c.minLng, c.maxLng = min(c.minLng, p.Lng), max(c.maxLng, p.Lng)
	}
	cellKm = max(cellKm, 0.25)
	c.cellLat = cellKm / kmPerDeg
	c.cellLng = cellKm / (kmPerDeg * math.Cos(math.Min(89, math.Max(math.Abs(c.minLat), math.Abs(c.maxLat)))*math.Pi/180))
	// No more than about 4 million cells, however spread the points are.
	for {
		c.nx = int((c.maxLng-c.minLng)/c.cellLng) + 1
		c.ny = int((c.maxLat-c.minLat)/c.cellLat) + 1
		if c.nx*c.ny <= 1<<22 {
			break
		}
		c.cellLat *= 2
		c.cellLng *= 2
	}
	c.lat0, c.lng0 = c.minLat, c.minLng
	c.start = make([]int32, c.nx*c.ny+1)
	cellOf := make([]int32, len(members))
	for i, j := range members {
		p := points[j]
		cell := int32(int((p.Lat-c.lat0)/c.cellLat)*c.nx + int((p.Lng-c.lng0)/c.cellLng))
		cellOf[i] = cell
		c.start[cell+1]++
	}
	for i := 0; i < c.nx*c.ny; i++ {
		c.start[i+1] += c.start[i]
	}
	pos := make([]int32, c.nx*c.ny)
	copy(pos, c.start)
	c.members = make([]int32, len(members))
	for i, j := range members {
		c.members[pos[cellOf[i]]] = j
		pos[cellOf[i]]++
	}
	return c
}

// window calls f with the points of each row of cells that holds points
// within rKm of p (and some farther).
func (c *grid) window(p geo.Point, rKm float64, f func(members []int32)) {
	dLat := rKm / kmPerDeg
	if len(c.members) == 0 || p.Lat+dLat < c.minLat || p.Lat-dLat > c.maxLat {
		return
	}
	dLng := rKm / (kmPerDeg * math.Cos(math.Min(89, math.Abs(p.Lat)+dLat)*math.Pi/180))
	y0, y1 := clampCell(math.Floor((p.Lat-dLat-c.lat0)/c.cellLat), c.ny), clampCell(math.Floor((p.Lat+dLat-c.lat0)/c.cellLat), c.ny)
	x0, x1 := clampCell(math.Floor((p.Lng-dLng-c.lng0)/c.cellLng), c.nx), clampCell(math.Floor((p.Lng+dLng-c.lng0)/c.cellLng), c.nx)
	for y := y0; y <= y1; y++ {
		row := y * c.nx
		f(c.members[c.start[row+x0]:c.start[row+x1+1]])
	}
}

func clampCell(v float64, n int) int { return int(min(max(v, 0), float64(n-1))) }

// visit calls f for every mentor whose radius covers p, with the squared
// chord between them.
func (x *reachIndex) visit(p geo.Point, f func(j int32, c2 float64)) {
	pv := toVec3(p)
	for ci := range x.classes {
		x.classes[ci].window(p, x.classes[ci].radiusKm, func(members []int32) {
			for _, j := range members {
				if c2, ok := x.covers(pv, p, j); ok {
					f(j, c2)
				}
			}
		})
	}
}

// covers tells whether mentor j's radius covers p (pv: p in three
// dimensions), with the squared chord between them.
func (x *reachIndex) covers(pv vec3, p geo.Point, j int32) (float64, bool) {
	c2 := chord2(pv, x.xyz[j])
	t := x.thr2[j]
	if c2 > t*(1+1e-9) {
		return c2, false
	}
	if c2 >= t*(1-1e-9) && geo.DistanceKm(p, x.centres[j]) > x.radius[j] {
		return c2, false
	}
	return c2, true
}

// metres is the distance of a pair as the rule counts it: the great-circle
// distance between the two cells' centres, in whole metres.
func (x *reachIndex) metres(p geo.Point, j int32) int64 {
	return int64(math.Round(geo.DistanceKm(p, x.centres[j]) * 1000))
}
