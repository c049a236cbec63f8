package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Units is Vietnam's official list of administrative units since 1 July
// 2025: provinces and centrally run cities, and under them communes, wards
// and special zones, keyed by their official codes, with simplified
// outlines of the communes. Everything about a unit is looked up by code:
// names differ between sources in where a tone mark sits, and a merged unit
// keeps the code of one of the units it replaced, so a code's range says
// nothing about its province.
//
// A Units is read-only once made and safe for concurrent use.
type Units struct {
	Version, Source string
	provinces       []Province // by code
	provinceAt      map[string]int
	communes        map[string]Commune
	shapes          []shape
	shapeAt         map[string]int
	grid            map[int64][]int32 // gridKey → indexes into shapes
}

// Province is a province or centrally run city.
type Province struct {
	Code, Name, FullName string
	Kind                 string   // "city" (Thành phố) or "province" (Tỉnh)
	Communes             []string // codes, in the list's order
}

// Commune is a commune (xã), ward (phường) or special zone (đặc khu).
type Commune struct {
	Code, Name, FullName string
	Kind                 string // "xa", "phuong" or "dac_khu"
	ProvinceCode         string
}

// Kind labels, as the official full names begin.
var kindLabels = map[string]string{"city": "Thành phố", "province": "Tỉnh", "xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu"}

// KindLabel is the Vietnamese word for a unit kind ("Xã", "Đặc khu").
func KindLabel(kind string) string { return kindLabels[kind] }

// shape is one commune's outline with the bounds that let a lookup skip
// most of it.
type shape struct {
	code   string
	polys  []orb.Polygon
	bounds []orb.Bound // of each polygon's outer ring
}

var (
	provinceCodeRe = regexp.MustCompile(`^[0-9]{2}$`)
	communeCodeRe  = regexp.MustCompile(`^[0-9]{5}$`)
	validKinds     = map[bool][]string{true: {"city", "province"}, false: {"xa", "phuong", "dac_khu"}}
)

// ErrUnitsInvalid wraps every reason a list or its outlines are refused.
var ErrUnitsInvalid = errors.New("invalid list of units")

// unitsFile is the shape of units.json.
type unitsFile struct {
	Version   string `json:"version"`
	Source    string `json:"source"`
	Provinces []struct {
		Code     string `json:"code"`
		Name     string `json:"name"`
		FullName string `json:"full_name"`
		Kind     string `json:"kind"`
		Communes []struct {
			Code     string `json:"code"`
			Name     string `json:"name"`
			FullName string `json:"full_name"`
			Kind     string `json:"kind"`
		} `json:"communes"`
	} `json:"provinces"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnitsInvalid, fmt.Sprintf(format, args...))
}

// ParseUnitsList reads units.json (its shape is in geo/units/README.md) and
// checks it: codes of the right form and each once, known kinds, names.
// The result has no outlines yet; AddOutlines gives them.
func ParseUnitsList(data []byte) (*Units, error) {
	var f unitsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, invalid("units.json: %v", err)
	}
	if strings.TrimSpace(f.Version) == "" || len(f.Provinces) == 0 {
		return nil, invalid("units.json: no version or no provinces")
	}
	u := &Units{Version: f.Version, Source: f.Source, provinceAt: map[string]int{}, communes: map[string]Commune{}}
	for _, p := range f.Provinces {
		if !provinceCodeRe.MatchString(p.Code) || p.Name == "" || p.FullName == "" || !slices.Contains(validKinds[true], p.Kind) {
			return nil, invalid("province %q: bad code, name or kind %q", p.Code, p.Kind)
		}
		if _, dup := u.provinceAt[p.Code]; dup {
			return nil, invalid("province %s listed twice", p.Code)
		}
		pr := Province{Code: p.Code, Name: p.Name, FullName: p.FullName, Kind: p.Kind}
		for _, c := range p.Communes {
			if !communeCodeRe.MatchString(c.Code) || c.Name == "" || c.FullName == "" || !slices.Contains(validKinds[false], c.Kind) {
				return nil, invalid("commune %q of %s: bad code, name or kind %q", c.Code, p.Code, c.Kind)
			}
			if _, dup := u.communes[c.Code]; dup {
				return nil, invalid("commune %s listed twice", c.Code)
			}
			u.communes[c.Code] = Commune{Code: c.Code, Name: c.Name, FullName: c.FullName, Kind: c.Kind, ProvinceCode: p.Code}
			pr.Communes = append(pr.Communes, c.Code)
		}
		u.provinceAt[p.Code] = len(u.provinces)
		u.provinces = append(u.provinces, pr)
	}
	slices.SortFunc(u.provinces, func(a, b Province) int { return strings.Compare(a.Code, b.Code) })
	for i, p := range u.provinces {
		u.provinceAt[p.Code] = i
	}
	return u, nil
}

// AddOutlinesGeoJSON reads communes.geojson (one Feature per commune with
// properties code and province_code, a Polygon or MultiPolygon in lng/lat)
// and indexes the outlines. Every commune of the list needs one.
func (u *Units) AddOutlinesGeoJSON(data []byte) error {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return invalid("communes.geojson: %v", err)
	}
	shapes := make([]shape, 0, len(fc.Features))
	for _, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		var polys []orb.Polygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			polys = []orb.Polygon{g}
		case orb.MultiPolygon:
			polys = g
		default:
			return invalid("outline of %q is not a polygon", code)
		}
		if pc, _ := f.Properties["province_code"].(string); pc != "" && u.communes[code].ProvinceCode != pc {
			return invalid("outline of %q names province %q, the list %q", code, pc, u.communes[code].ProvinceCode)
		}
		shapes = append(shapes, shape{code: code, polys: polys})
	}
	return u.setShapes(shapes)
}

// setShapes checks that the outlines and the list name the same communes,
// then builds the grid index.
func (u *Units) setShapes(shapes []shape) error {
	seen := map[string]bool{}
	for i := range shapes {
		s := &shapes[i]
		if _, ok := u.communes[s.code]; !ok {
			return invalid("outline of %q, which the list does not have", s.code)
		}
		if seen[s.code] {
			return invalid("two outlines of %s", s.code)
		}
		seen[s.code] = true
		s.bounds = make([]orb.Bound, len(s.polys))
		for k, p := range s.polys {
			if len(p) == 0 || len(p[0]) < 4 {
				return invalid("outline of %s has an empty ring", s.code)
			}
			s.bounds[k] = p[0].Bound()
		}
	}
	if len(seen) != len(u.communes) {
		for code := range u.communes {
			if !seen[code] {
				return invalid("commune %s has no outline", code)
			}
		}
	}
	u.shapes, u.shapeAt = shapes, make(map[string]int, len(shapes))
	for i, s := range shapes {
		u.shapeAt[s.code] = i
	}
	u.buildGrid()
	return nil
}

// gridStep is the side of an index cell in degrees (about 11 km): small
// enough that a cell holds a handful of communes, large enough that the
// index of the whole country is a few tens of thousands of entries.
const gridStep = 0.1

func gridKey(lat, lng float64) int64 {
	return int64(math.Floor(lat/gridStep))<<32 | int64(uint32(int32(math.Floor(lng/gridStep))))
}

// buildGrid lists, for every index cell, the communes whose bounds come
// within CoastBufferKm of it, so that one map read finds every outline a
// point may be inside or near.
func (u *Units) buildGrid() {
	u.grid = map[int64][]int32{}
	pad := CoastBufferKm / 100 // degrees; a degree is at least 100 km here
	for i, s := range u.shapes {
		added := map[int64]bool{}
		for _, b := range s.bounds {
			for lat := math.Floor((b.Min[1]-pad)/gridStep) * gridStep; lat <= b.Max[1]+pad; lat += gridStep {
				for lng := math.Floor((b.Min[0]-pad)/gridStep) * gridStep; lng <= b.Max[0]+pad; lng += gridStep {
					k := gridKey(lat+gridStep/2, lng+gridStep/2)
					if !added[k] {
						added[k] = true
						u.grid[k] = append(u.grid[k], int32(i))
					}
				}
			}
		}
	}
}

// Provinces lists the provinces by code.
func (u *Units) Provinces() []Province { return slices.Clone(u.provinces) }

// Province returns the province of a code.
func (u *Units) Province(code string) (Province, bool) {
	i, ok := u.provinceAt[code]
	if !ok {
		return Province{}, false
	}
	return u.provinces[i], true
}

// Commune returns the commune, ward or special zone of a code.
func (u *Units) Commune(code string) (Commune, bool) {
	c, ok := u.communes[code]
	return c, ok
}

// FullNames are the official full names of a province and a commune code,
// "" for a code the list does not have.
func (u *Units) FullNames(province, commune string) (provinceName, communeName string) {
	if p, ok := u.Province(province); ok {
		provinceName = p.FullName
	}
	if c, ok := u.communes[commune]; ok {
		communeName = c.FullName
	}
	return provinceName, communeName
}

// Locate returns the code of the commune whose outline holds p, if any.
func (u *Units) Locate(p Point) (string, bool) {
	pt := orb.Point{p.Lng, p.Lat}
	for _, i := range u.grid[gridKey(p.Lat, p.Lng)] {
		s := &u.shapes[i]
		for k, poly := range s.polys {
			if s.bounds[k].Contains(pt) && planar.PolygonContains(poly, pt) {
				return s.code, true
			}
		}
	}
	return "", false
}

// CoastBufferKm: a point this close to a commune's outline counts as in
// that commune. The outlines are simplified to about 30 m and follow the
// coast, so a beach, a pier or a boat at its mooring can fall a little
// outside; Hoàng Sa's outline is approximate (Phú Lâm island lies 1.9 km
// outside it). Near a land border the buffer is LandBufferKm instead.
const CoastBufferKm = 2.5

// LandBufferKm is the buffer within LandGuardKm of a land border (with
// Laos, Cambodia or China): only the outlines' own simplification, so
// that a village across the border is not taken for Vietnam.
const (
	LandBufferKm = 0.1
	LandGuardKm  = 5.0
)

// Place is where a point lies: its commune, and whether it is inside the
// outline or only within the buffer of it.
type Place struct {
	CommuneCode string
	Inside      bool
}

// Placed finds the commune of p: the one whose outline holds it, or else
// the nearest one within the buffer (CoastBufferKm, or LandBufferKm near a
// land border). ok is false for a point outside Vietnam.
func (u *Units) Placed(p Point) (Place, bool) {
	if code, ok := u.Locate(p); ok {
		return Place{CommuneCode: code, Inside: true}, true
	}
	// The grid lists every outline within the buffer of the cell: none
	// there, and the point is abroad or at sea, with no border to measure.
	near := u.grid[gridKey(p.Lat, p.Lng)]
	if len(near) == 0 {
		return Place{}, false
	}
	limit := CoastBufferKm
	if nearLandBorder(p, LandGuardKm) {
		limit = LandBufferKm
	}
	best, bestKm := "", math.Inf(1)
	for _, i := range near {
		s := &u.shapes[i]
		for k, poly := range s.polys {
			if !nearBound(s.bounds[k], p, limit) {
				continue
			}
			if d := ringDistanceKm(poly[0], p, bestKm); d < bestKm {
				best, bestKm = s.code, d
			}
		}
	}
	if bestKm <= limit {
		return Place{CommuneCode: best}, true
	}
	return Place{}, false
}

// Place checks that p is a real point in Vietnam and returns its home cell
// and its commune: ErrBadPoint or ErrOutsideVietnam otherwise.
func (u *Units) Place(p Point) (Cell, Place, error) {
	c, err := CellOf(p)
	if err != nil {
		return 0, Place{}, err
	}
	pl, ok := u.Placed(p)
	if !ok {
		return 0, Place{}, ErrOutsideVietnam
	}
	return c, pl, nil
}

// Contains reports whether p is in Vietnam: inside some commune's outline
// or within the buffer of one.
func (u *Units) Contains(p Point) bool {
	_, ok := u.Placed(p)
	return ok
}

// nearBound reports whether p is within km of the bound b.
func nearBound(b orb.Bound, p Point, km float64) bool {
	dLat := km / 110.57
	dLng := km / (111.32 * math.Max(0.1, math.Cos(p.Lat*math.Pi/180)))
	return p.Lat >= b.Min[1]-dLat && p.Lat <= b.Max[1]+dLat && p.Lng >= b.Min[0]-dLng && p.Lng <= b.Max[0]+dLng
}

// ringDistanceKm is the distance from p to the ring's edges, or a value
// at least stop once it is clear that none is nearer than stop.
func ringDistanceKm(r orb.Ring, p Point, stop float64) float64 {
	best := stop
	for k := 1; k < len(r); k++ {
		a, b := Point{Lat: r[k-1][1], Lng: r[k-1][0]}, Point{Lat: r[k][1], Lng: r[k][0]}
		if d := segmentDistanceKm(p, a, b); d < best {
			best = d
		}
	}
	return best
}

// InsidePoint returns a point inside the commune's outline (inside its
// largest part), for tests, demos and to follow a commune through a merge.
func (u *Units) InsidePoint(code string) (Point, bool) {
	if i, ok := u.shapeAt[code]; ok {
		s := &u.shapes[i]
		k := 0
		for j, b := range s.bounds {
			if area(b) > area(s.bounds[k]) {
				k = j
			}
		}
		b := s.bounds[k]
		// A lattice over the bounds, from the centre outwards: a convex-ish
		// outline holds the centre; a crescent holds one of the others.
		const n = 15
		for step := 0; step <= n/2; step++ {
			for i := n/2 - step; i <= n/2+step; i++ {
				for j := n/2 - step; j <= n/2+step; j++ {
					pt := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])*(float64(i)+0.5)/n, b.Min[1] + (b.Max[1]-b.Min[1])*(float64(j)+0.5)/n}
					if planar.PolygonContains(s.polys[k], pt) {
						if got, ok := u.Locate(Point{Lat: pt[1], Lng: pt[0]}); ok && got == code {
							return Point{Lat: pt[1], Lng: pt[0]}, true
						}
					}
				}
			}
		}
		v := s.polys[k][0][0]
		return Point{Lat: v[1], Lng: v[0]}, true
	}
	return Point{}, false
}

func area(b orb.Bound) float64 { return (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1]) }

// OutlineGeoJSON is the commune's outline as a GeoJSON geometry, for maps.
func (u *Units) OutlineGeoJSON(code string) (json.RawMessage, bool) {
	if i, ok := u.shapeAt[code]; ok {
		if s := &u.shapes[i]; true {
			var g orb.Geometry = orb.MultiPolygon(s.polys)
			if len(s.polys) == 1 {
				g = s.polys[0]
			}
			b, err := geojson.NewGeometry(g).MarshalJSON()
			return b, err == nil
		}
	}
	return nil, false
}

// Subset is the list cut down to some provinces, with their outlines: a
// smaller list of the same shape, for tests and demos.
func (u *Units) Subset(provinces ...string) *Units {
	out := &Units{Version: u.Version, Source: u.Source, provinceAt: map[string]int{}, communes: map[string]Commune{}}
	var shapes []shape
	for _, code := range provinces {
		p, ok := u.Province(code)
		if !ok {
			continue
		}
		out.provinceAt[p.Code] = len(out.provinces)
		out.provinces = append(out.provinces, p)
		for _, c := range p.Communes {
			out.communes[c] = u.communes[c]
			if i, ok := u.shapeAt[c]; ok {
				shapes = append(shapes, u.shapes[i])
			}
		}
	}
	if err := out.setShapes(shapes); err != nil {
		panic("geo: subset of a checked list: " + err.Error()) // cannot happen: the parts were checked
	}
	return out
}

// MarshalList writes the list in the shape of units.json.
func (u *Units) MarshalList() ([]byte, error) {
	type commune struct {
		Code     string `json:"code"`
		Name     string `json:"name"`
		FullName string `json:"full_name"`
		Kind     string `json:"kind"`
	}
	type province struct {
		commune
		Communes []commune `json:"communes"`
	}
	f := struct {
		Version   string     `json:"version"`
		Source    string     `json:"source"`
		Provinces []province `json:"provinces"`
	}{Version: u.Version, Source: u.Source}
	for _, p := range u.provinces {
		pj := province{commune: commune{p.Code, p.Name, p.FullName, p.Kind}}
		for _, code := range p.Communes {
			c := u.communes[code]
			pj.Communes = append(pj.Communes, commune{c.Code, c.Name, c.FullName, c.Kind})
		}
		f.Provinces = append(f.Provinces, pj)
	}
	return json.Marshal(f)
}

// MarshalOutlines writes the outlines in the shape of communes.geojson.
func (u *Units) MarshalOutlines() ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	for _, s := range u.shapes {
		f := geojson.NewFeature(orb.MultiPolygon(s.polys))
		f.Properties["code"] = s.code
		f.Properties["province_code"] = u.communes[s.code].ProvinceCode
		fc.Append(f)
	}
	return fc.MarshalJSON()
}
