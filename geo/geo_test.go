package geo

import (
	"errors"
	"math"
	"testing"
)

func TestCellOf(t *testing.T) {
	c, err := CellOf(Point{21.0285, 105.8542})
	if err != nil || c.Resolution() != HomeResolution {
		t.Fatalf("cell %v res %d err %v", c, c.Resolution(), err)
	}
	back, err := ParseCell(c.String(), HomeResolution)
	if err != nil || back != c {
		t.Fatalf("round trip %s: %v %v", c, back, err)
	}
	if d := DistanceKm(c.Center(), Point{21.0285, 105.8542}); d > 0.2 {
		t.Fatalf("cell centre %.3f km from the point, want within a res-9 cell", d)
	}
	bad := []Point{{math.NaN(), 105}, {21, math.Inf(1)}, {91, 105}, {21, 181}}
	for _, p := range bad {
		if _, err := CellOf(p); !errors.Is(err, ErrBadPoint) {
			t.Errorf("CellOf(%v) err %v, want ErrBadPoint", p, err)
		}
	}
}

func TestParseCell(t *testing.T) {
	c, _ := CellOf(Point{21.0285, 105.8542})
	parent, _ := c.Parent(7)
	for name, s := range map[string]string{
		"empty": "", "not hex": "zzzzzzzzzzzzzzz", "too long": "89411c0c2b3ffff00",
		"not a cell": "ffffffffffffffff", "operator": "$gt", "other resolution": parent.String(),
	} {
		if _, err := ParseCell(s, HomeResolution); !errors.Is(err, ErrBadCell) {
			t.Errorf("%s: ParseCell(%q) err %v, want ErrBadCell", name, s, err)
		}
	}
	if _, err := ParseCell(parent.String(), -1); err != nil {
		t.Errorf("any resolution: %v", err)
	}
}

func TestDistanceKm(t *testing.T) {
	// Hà Nội to TP Hồ Chí Minh is about 1,137 km great-circle.
	d := DistanceKm(Point{21.0285, 105.8542}, Point{10.7769, 106.7009})
	if d < 1130 || d > 1145 {
		t.Fatalf("Hà Nội - HCMC %.1f km", d)
	}
	if DistanceKm(Point{21, 105}, Point{21, 105}) != 0 {
		t.Fatal("distance to itself")
	}
}
