package geo

import (
	"errors"
	"math"
	"testing"
)

func TestInVietnam(t *testing.T) {
	cases := []struct {
		name string
		p    Point
		want bool
	}{
		{"Hà Nội", Point{21.0285, 105.8542}, true},
		{"TP Hồ Chí Minh", Point{10.7769, 106.7009}, true},
		{"Sa Pa, Lào Cai", Point{22.3364, 103.8438}, true},
		{"Mèo Vạc, Hà Giang", Point{23.1610, 105.4090}, true},
		{"Mường Nhé, Điện Biên", Point{22.1920, 102.4560}, true},
		{"Đà Lạt", Point{11.9404, 108.4583}, true},
		{"Cà Mau", Point{9.1769, 105.1524}, true},
		{"Phú Quốc island", Point{10.2270, 103.9640}, true},
		{"Côn Đảo island", Point{8.6900, 106.6100}, true},
		{"Cửa Lò beach", Point{18.8050, 105.7200}, true},
		{"Vientiane, Laos", Point{17.9757, 102.6331}, false},
		{"Savannakhet, Laos, across the Mekong", Point{16.5560, 104.7520}, false},
		{"Phnom Penh, Cambodia", Point{11.5564, 104.9282}, false},
		{"Svay Rieng, Cambodia", Point{11.0870, 105.7990}, false},
		{"Pingxiang, China", Point{22.0946, 106.7530}, false},
		{"Nanning, China", Point{22.8170, 108.3665}, false},
		{"Kunming, China", Point{25.0389, 102.7183}, false},
		{"South China Sea", Point{12.0, 110.5}, false},
		{"Gulf of Tonkin", Point{20.0, 107.5}, false},
		{"Gulf of Thailand", Point{9.5, 103.0}, false},
		{"Bangkok, Thailand", Point{13.7563, 100.5018}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := InVietnam(c.p); got != c.want {
				t.Fatalf("InVietnam(%v) = %v, want %v", c.p, got, c.want)
			}
		})
	}
}

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
	if _, err := CellOf(Point{17.9757, 102.6331}); !errors.Is(err, ErrOutsideVietnam) {
		t.Errorf("Vientiane: %v", err)
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

func BenchmarkInVietnam(b *testing.B) {
	for i := 0; i < b.N; i++ {
		InVietnam(Point{21.0285, 105.8542})
	}
}
