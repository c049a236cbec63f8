package geo

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/uber/h3-go/v4"
)

// HomeResolution is the H3 resolution of stored locations: cells of about
// 0.105 km² (edge about 174 m), coarse enough not to single out a house in
// a village, fine enough to measure walking distances.
const HomeResolution = 9

var (
	// ErrBadPoint: coordinates that are not numbers on the globe.
	ErrBadPoint = errors.New("invalid coordinates")
	// ErrOutsideVietnam: a point outside Vietnam's land (and coast).
	ErrOutsideVietnam = errors.New("outside Vietnam")
	// ErrBadCell: not a valid H3 cell string, or not at the expected resolution.
	ErrBadCell = errors.New("invalid H3 cell")
)

// Point is an exact location in degrees. It is personal data: turn it into
// a Cell at once and drop it.
type Point struct{ Lat, Lng float64 }

// Cell is an H3 cell index.
type Cell uint64

// CellOf checks that p is a real point on the globe and returns its cell at
// HomeResolution. Whether it is in Vietnam is Units.Place's question.
func CellOf(p Point) (Cell, error) {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lng, 0) ||
		p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return 0, ErrBadPoint
	}
	c := h3.LatLngToCell(h3.LatLng{Lat: p.Lat, Lng: p.Lng}, HomeResolution)
	// h3-go returns 0 rather than an error for bad input.
	if c == 0 || !c.IsValid() {
		return 0, ErrBadPoint
	}
	return Cell(c), nil
}

// ParseCell reads a cell written by String (15 or 16 hex digits) and checks
// that it is a valid H3 cell at resolution res (any resolution if res < 0).
func ParseCell(s string, res int) (Cell, error) {
	if len(s) < 15 || len(s) > 16 {
		return 0, ErrBadCell
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, ErrBadCell
	}
	c := h3.Cell(v)
	if !c.IsValid() || (res >= 0 && c.Resolution() != res) {
		return 0, ErrBadCell
	}
	return Cell(v), nil
}

// String is the cell's usual hex form, e.g. "8965b5625b3ffff".
func (c Cell) String() string { return strconv.FormatUint(uint64(c), 16) }

// Valid reports whether c is a valid H3 cell.
func (c Cell) Valid() bool { return h3.Cell(c).IsValid() }

// Resolution is the cell's H3 resolution.
func (c Cell) Resolution() int { return h3.Cell(c).Resolution() }

// Parent is the cell containing c at a coarser resolution.
func (c Cell) Parent(res int) (Cell, error) {
	if res < 0 || res > c.Resolution() {
		return 0, fmt.Errorf("parent at %d of a resolution %d cell: %w", res, c.Resolution(), ErrBadCell)
	}
	return Cell(h3.Cell(c).Parent(res)), nil
}

// Center is the centre of the cell: a coarse point, not anybody's house.
func (c Cell) Center() Point {
	ll := h3.Cell(c).LatLng()
	return Point{Lat: ll.Lat, Lng: ll.Lng}
}

const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two points.
func DistanceKm(a, b Point) float64 {
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dLat := la2 - la1
	dLng := (b.Lng - a.Lng) * math.Pi / 180
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
