package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestEmbeddedListIsTheOfficialOne(t *testing.T) {
	u := EmbeddedUnits()
	communes, kinds := 0, map[string]int{}
	for _, p := range u.Provinces() {
		communes += len(p.Communes)
		for _, code := range p.Communes {
			c, _ := u.Commune(code)
			kinds[c.Kind]++
			if c.ProvinceCode != p.Code {
				t.Fatalf("%s lists %s under %s", p.Code, code, c.ProvinceCode)
			}
		}
	}
	if len(u.Provinces()) != 34 || communes != 3321 || kinds["dac_khu"] != 13 {
		t.Fatalf("%d provinces, %d communes, kinds %v; want 34, 3,321 with 13 special zones", len(u.Provinces()), communes, kinds)
	}
	if p, _ := u.Province("11"); p.FullName != "Tỉnh Điện Biên" || KindLabel(p.Kind) != "Tỉnh" {
		t.Fatalf("province 11: %+v", p)
	}
	if c, _ := u.Commune("00004"); c.FullName != "Phường Ba Đình" || c.ProvinceCode != "01" {
		t.Fatalf("commune 00004: %+v", c)
	}
}

// TestBorderIsTheUnionOfCommunes: every special zone, the islands the old
// country outline missed and the mainland are in their own commune; a
// beach within the coast buffer counts; Laos, Cambodia, China and the
// open sea do not.
func TestBorderIsTheUnionOfCommunes(t *testing.T) {
	u := EmbeddedUnits()
	in := []struct {
		p       Point
		commune string // full name of the commune the point must be placed in
	}{
		{Point{21.066, 107.42}, "Đặc khu Vân Đồn"},
		{Point{20.97, 107.77}, "Đặc khu Cô Tô"},
		{Point{20.7266, 107.0486}, "Đặc khu Cát Hải"},
		{Point{20.135, 107.727}, "Đặc khu Bạch Long Vĩ"},
		{Point{17.16, 107.34}, "Đặc khu Cồn Cỏ"},
		{Point{16.834, 112.339}, "Đặc khu Hoàng Sa"}, // Phú Lâm: 1.9 km outside the approximate outline
		{Point{15.38, 109.12}, "Đặc khu Lý Sơn"},
		{Point{8.645, 111.92}, "Đặc khu Trường Sa"},
		{Point{10.52, 108.94}, "Đặc khu Phú Quý"},
		{Point{8.69, 106.61}, "Đặc khu Côn Đảo"},
		{Point{10.227, 103.964}, "Đặc khu Phú Quốc"},
		{Point{9.30, 103.48}, "Đặc khu Thổ Châu"},
		{Point{9.97, 104.84}, "Đặc khu Kiên Hải"},
		{Point{21.0285, 105.8542}, "Phường Hoàn Kiếm"},
		{Point{22.1920, 102.4560}, "Xã Mường Nhé"},
		{Point{10.7769, 106.7009}, "Phường Sài Gòn"},
	}
	for _, c := range in {
		pl, ok := u.Placed(c.p)
		got, _ := u.Commune(pl.CommuneCode)
		if !ok || got.FullName != c.commune {
			t.Errorf("%v: placed in %q (%v), want %s", c.p, got.FullName, ok, c.commune)
		}
		if _, _, err := u.Place(c.p); err != nil {
			t.Errorf("%v (%s): %v", c.p, c.commune, err)
		}
	}
	out := map[string]Point{
		"Vientiane, Laos":                      {17.9757, 102.6331},
		"Savannakhet, Laos, across the Mekong": {16.5560, 104.7520},
		"Phnom Penh, Cambodia":                 {11.5564, 104.9282},
		"Svay Rieng, Cambodia":                 {11.0870, 105.7990},
		"Pingxiang, China":                     {22.0946, 106.7530},
		"Nanning, China":                       {22.8170, 108.3665},
		"Kunming, China":                       {25.0389, 102.7183},
		"Dongxing, China, across the Ka Long":  {21.5480, 107.9700},
		"Laos, 1.5 km across from Mường Nhé":   {22.24826, 102.2233},
		"South China Sea":                      {12.0, 110.5},
		"sea 26 km off Đà Nẵng":                {16.07, 108.48},
		"Gulf of Tonkin":                       {20.0, 107.5},
		"Gulf of Thailand":                     {9.5, 103.0},
		"Bangkok, Thailand":                    {13.7563, 100.5018},
	}
	for name, p := range out {
		if pl, ok := u.Placed(p); ok {
			t.Errorf("%s %v placed in %s", name, p, pl.CommuneCode)
		}
		if _, _, err := u.Place(p); !errors.Is(err, ErrOutsideVietnam) {
			t.Errorf("%s: %v, want ErrOutsideVietnam", name, err)
		}
	}
}

// TestBufferOnCoastsNotOnLandBorders: a point just off a commune's coast is
// in it, a point the same distance off a land border is not.
func TestBufferOnCoastsNotOnLandBorders(t *testing.T) {
	u := EmbeddedUnits()
	// Mỹ Khê beach, Đà Nẵng, 1.2 km out to sea: within the coast buffer.
	if pl, ok := u.Placed(Point{16.06, 108.262}); !ok || pl.Inside {
		t.Fatalf("off Mỹ Khê: %+v %v, want placed by the buffer", pl, ok)
	}
	// 4 km out is not.
	if _, ok := u.Placed(Point{16.06, 108.29}); ok {
		t.Fatal("4 km off Mỹ Khê placed in a commune")
	}
	if !nearLandBorder(Point{22.24826, 102.2233}, LandGuardKm) {
		t.Fatal("the point across from Mường Nhé is not near the land border")
	}
	if nearLandBorder(Point{16.06, 108.262}, LandGuardKm) {
		t.Fatal("Đà Nẵng's beach taken for a land border")
	}
}

func TestParseUnitsListRefusesBadLists(t *testing.T) {
	good := `{"version":"v","provinces":[{"code":"11","name":"Điện Biên","full_name":"Tỉnh Điện Biên","kind":"province","communes":[{"code":"03160","name":"Mường Nhé","full_name":"Xã Mường Nhé","kind":"xa"}]}]}`
	if _, err := ParseUnitsList([]byte(good)); err != nil {
		t.Fatalf("good list: %v", err)
	}
	for name, bad := range map[string]string{
		"not json":          `{`,
		"no version":        strings.Replace(good, `"version":"v"`, `"version":""`, 1),
		"bad province code": strings.Replace(good, `"code":"11"`, `"code":"1"`, 1),
		"bad commune code":  strings.Replace(good, `"03160"`, `"3160"`, 1),
		"unknown kind":      strings.Replace(good, `"kind":"xa"`, `"kind":"huyen"`, 1),
		"no name":           strings.Replace(good, `"name":"Mường Nhé"`, `"name":""`, 1),
		"commune twice": strings.Replace(good, `"communes":[`,
			`"communes":[{"code":"03160","name":"X","full_name":"Xã X","kind":"xa"},`, 1),
	} {
		if _, err := ParseUnitsList([]byte(bad)); !errors.Is(err, ErrUnitsInvalid) {
			t.Errorf("%s: %v, want ErrUnitsInvalid", name, err)
		}
	}
	u, _ := ParseUnitsList([]byte(good))
	if err := u.AddOutlinesGeoJSON([]byte(`{"type":"FeatureCollection","features":[]}`)); !errors.Is(err, ErrUnitsInvalid) {
		t.Errorf("a commune without outline: %v", err)
	}
}

// TestPackedOutlinesAreTheGeoJSON: the packed copy decodes to the same
// points as the GeoJSON it was packed from.
func TestPackedOutlinesAreTheGeoJSON(t *testing.T) {
	sub := EmbeddedUnits().Subset("11", "51")
	list, _ := sub.MarshalList()
	outlines, err := sub.MarshalOutlines()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseUnitsList(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := fromJSON.AddOutlinesGeoJSON(outlines); err != nil {
		t.Fatal(err)
	}
	var packed strings.Builder
	if err := fromJSON.PackOutlines(&packed); err != nil {
		t.Fatal(err)
	}
	fromPack, _ := ParseUnitsList(list)
	if err := fromPack.AddOutlinesPacked([]byte(packed.String())); err != nil {
		t.Fatal(err)
	}
	if len(fromPack.shapes) != 45+len(mustProvince(t, sub, "51").Communes) {
		t.Fatalf("%d outlines", len(fromPack.shapes))
	}
	for i, s := range fromJSON.shapes {
		if !slices.EqualFunc(s.polys, fromPack.shapes[i].polys, func(a, b orb.Polygon) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
			t.Fatalf("outline of %s differs after packing", s.code)
		}
	}
	other, _ := ParseUnitsList([]byte(strings.Replace(string(list), sub.Version, "other", 1)))
	if err := other.AddOutlinesPacked([]byte(packed.String())); !errors.Is(err, ErrUnitsInvalid) {
		t.Fatalf("outlines of another version: %v", err)
	}
	if err := other.AddOutlinesPacked([]byte("VNU1 not gzip")); !errors.Is(err, ErrUnitsInvalid) {
		t.Fatalf("garbage: %v", err)
	}
}

func mustProvince(t *testing.T, u *Units, code string) Province {
	p, ok := u.Province(code)
	if !ok {
		t.Fatalf("no province %s", code)
	}
	return p
}

// TestDiffUnits: a newer list with a commune renamed (a xã become a
// phường), two merged, one removed with its area, one added.
func TestDiffUnits(t *testing.T) {
	old := EmbeddedUnits().Subset("11")
	list, _ := old.MarshalList()
	outlines, _ := old.MarshalOutlines()
	var l map[string]any
	var o map[string]any
	json.Unmarshal(list, &l)
	json.Unmarshal(outlines, &o)
	l["version"] = "2027-01-01"
	communes := l["provinces"].([]any)[0].(map[string]any)["communes"].([]any)
	feats := o["features"].([]any)
	find := func(code string) (map[string]any, int) {
		for i, f := range feats {
			if f.(map[string]any)["properties"].(map[string]any)["code"] == code {
				return f.(map[string]any), i
			}
		}
		t.Fatalf("no outline %s", code)
		return nil, 0
	}
	var kept []any
	for _, c := range communes {
		c := c.(map[string]any)
		switch c["code"] {
		case "03160": // Mường Nhé becomes a ward
			c["kind"], c["full_name"] = "phuong", "Phường Mường Nhé"
		case "03162", "03163": // Nậm Kè goes into Mường Nhé; Mường Toong goes
			continue
		}
		kept = append(kept, c)
	}
	kept = append(kept, map[string]any{"code": "03999", "name": "Mới", "full_name": "Xã Mới", "kind": "xa"})
	l["provinces"].([]any)[0].(map[string]any)["communes"] = kept
	// Mường Nhé's outline takes in Nậm Kè's; Mường Toong's area goes to the
	// new commune 03999, so it is "merged" there; nothing is left without a unit.
	mn, _ := find("03160")
	nk, nki := find("03162")
	mt, _ := find("03163")
	mn["geometry"].(map[string]any)["coordinates"] = append(mn["geometry"].(map[string]any)["coordinates"].([]any),
		nk["geometry"].(map[string]any)["coordinates"].([]any)...)
	mt["properties"].(map[string]any)["code"] = "03999"
	feats = slices.Delete(feats, nki, nki+1)
	o["features"] = feats
	list2, _ := json.Marshal(l)
	outlines2, _ := json.Marshal(o)
	next, err := ParseUnitsList(list2)
	if err == nil {
		err = next.AddOutlinesGeoJSON(outlines2)
	}
	if err != nil {
		t.Fatal(err)
	}
	d := DiffUnits(old, next)
	str := func(cs []UnitChange) string { return fmt.Sprint(cs) }
	if d.From != old.Version || d.To != "2027-01-01" ||
		str(d.Renamed) != str([]UnitChange{{"commune", "03160", "Xã Mường Nhé", "Phường Mường Nhé", ""}}) ||
		str(d.Merged) != str([]UnitChange{{"commune", "03162", "Xã Nậm Kè", "Phường Mường Nhé", "03160"}, {"commune", "03163", "Xã Mường Toong", "Xã Mới", "03999"}}) ||
		str(d.Added) != str([]UnitChange{{"commune", "03999", "", "Xã Mới", ""}}) || len(d.Removed) != 0 {
		t.Fatalf("diff %+v", d)
	}
	if !DiffUnits(old, old).Empty() {
		t.Fatal("a list differs from itself")
	}
}

// BenchmarkPlace prints the time of a border-and-commune lookup and the
// memory and time the embedded list takes at start.
func BenchmarkPlace(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	u, err := ParseUnitsList(embeddedList)
	if err == nil {
		err = u.AddOutlinesPacked(embeddedOutlines)
	}
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	pts := []Point{{21.0285, 105.8542}, {22.1920, 102.4560}, {10.7769, 106.7009}, {8.645, 111.92}, {16.07, 108.48}, {17.9757, 102.6331}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.Placed(pts[i%len(pts)])
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-at-start")
	b.ReportMetric(float64(took.Milliseconds()), "ms-to-load")
}

// BenchmarkOutlinesDecode compares reading the outlines from GeoJSON (what
// UNITS_DIR gives; the embedded list written back as its communes.geojson)
// with reading the packed copy the binary embeds.
func BenchmarkOutlinesDecode(b *testing.B) {
	u := EmbeddedUnits()
	geoJSON, err := u.MarshalOutlines()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		add  func(*Units) error
	}{
		{"geojson", func(x *Units) error { return x.AddOutlinesGeoJSON(geoJSON) }},
		{"packed", func(x *Units) error { return x.AddOutlinesPacked(embeddedOutlines) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				x, err := ParseUnitsList(embeddedList)
				if err == nil {
					err = c.add(x)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(geoJSON))/(1<<20), "MiB-geojson")
		})
	}
}

// BenchmarkPlaceInland is the common case: a point inside a commune.
func BenchmarkPlaceInland(b *testing.B) {
	u := EmbeddedUnits()
	for i := 0; i < b.N; i++ {
		u.Placed(Point{22.1920, 102.4560})
	}
}
