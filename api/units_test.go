package api

import (
	"fmt"
	"net/http"
	"testing"

	"daisuso/geo"
)

// TestUnionsTakeOfficialCodes: a province or commune union is made from the
// official list: an unknown code or a commune of another province is a
// 422, the name and kind come from the list, one union per code.
func TestUnionsTakeOfficialCodes(t *testing.T) {
	w := newWorld(t)
	b := w.get("/v1/branches/"+w.communeA, w.admin...).json(t)
	if b["name"] != "Xã Mường Hum" || b["unit_kind"] != "xa" || b["unit_kind_name"] != "Xã" ||
		b["province_name"] != "Tỉnh Lào Cai" || b["commune_name"] != "Xã Mường Hum" {
		t.Fatalf("commune union %v", b)
	}
	if p := w.get("/v1/branches/"+w.province, w.admin...).json(t); p["name"] != "Tỉnh Lào Cai" || p["unit_kind_name"] != "Tỉnh" {
		t.Fatalf("province union %v", p)
	}
	cases := []struct {
		name, body string
		auth       []string
		status     int
		code       string
	}{
		{"province code not in the list", `{"kind":"province","province_code":"10"}`, w.admin, 422, "unknown_province_code"},
		{"commune code not in the list", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":"02800"}`, w.province), w.admin, 422, "unknown_commune_code"},
		{"Mường Nhé is Điện Biên's", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":"03160"}`, w.province), w.admin, 422, "commune_of_other_province"},
		{"a ward of Hà Nội", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":"00004"}`, w.province), w.admin, 422, "commune_of_other_province"},
		{"one union per commune", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":"02725"}`, w.province), w.admin, 409, "code_taken"},
	}
	for _, c := range cases {
		r := w.post("/v1/branches", c.body, c.auth...)
		if r.Status != c.status || r.errorCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	// Điện Biên's union takes Mường Nhé, named by the list whatever was typed.
	dienBien := w.mustCreate("/v1/branches", `{"kind":"province","name":"gõ sai","province_code":"11"}`, w.admin)
	mn := w.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":"03160"}`, dienBien["id"]), w.admin)
	if dienBien["name"] != "Tỉnh Điện Biên" || mn["name"] != "Xã Mường Nhé" || mn["province_code"] != "11" {
		t.Fatalf("Điện Biên %v, Mường Nhé %v", dienBien, mn)
	}
}

// TestLocationTellsTheCommune: a location is placed in its commune by the
// outlines; one in another commune than the record's is kept and flagged
// with the commune it is in; special zones are in Vietnam, Laos is not.
func TestLocationTellsTheCommune(t *testing.T) {
	w := newWorld(t)
	u := geo.EmbeddedUnits()
	inA, _ := u.InsidePoint("02728")
	inB, _ := u.InsidePoint("02725")
	register := func(p geo.Point) response {
		return w.post("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
			w.communeA, p.Lat, p.Lng, oneAdult), w.staffA...)
	}
	home := register(inA)
	if h := home.json(t); home.Status != http.StatusCreated || h["outside_commune"] != false || h["commune_name"] != "Xã Mường Hum" ||
		h["located_commune_code"] != nil {
		t.Fatalf("a household at home: %d %v", home.Status, h)
	}
	next := register(inB)
	h := next.json(t)
	if next.Status != http.StatusCreated || h["outside_commune"] != true || h["located_commune_code"] != "02725" ||
		h["located_commune_name"] != "Xã Bản Xèo" || h["commune_code"] != "02728" {
		t.Fatalf("a household living in the next commune: %d %v", next.Status, h)
	}
	// The desk sees the flag when it reads the record again.
	if again := w.get("/v1/households/"+h["id"].(string), w.staffA...).json(t); again["outside_commune"] != true {
		t.Fatalf("the flag is not kept: %v", again)
	}
	for name, p := range map[string]geo.Point{"Lý Sơn": {Lat: 15.38, Lng: 109.12}, "Trường Sa": {Lat: 8.645, Lng: 111.92}, "Bạch Long Vĩ": {Lat: 20.135, Lng: 107.727}} {
		if r := register(p); r.Status != http.StatusCreated || r.json(t)["located_commune_name"] == nil {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	for name, p := range map[string]geo.Point{"Vientiane": {Lat: 17.9757, Lng: 102.6331}, "open sea off Đà Nẵng": {Lat: 16.07, Lng: 108.48}} {
		if r := register(p); r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "outside_vietnam" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// A volunteer's home is placed the same way.
	auth := w.tokenIn("vol-b", "", "")
	v := w.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Lò Thị Mai","phone":"0912000999","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"consents":["matching"]}`, w.branchA, inB.Lat, inB.Lng), auth)
	if v["outside_commune"] != true || v["located_commune_name"] != "Xã Bản Xèo" {
		t.Fatalf("volunteer %v", v)
	}
}

// TestPublicUnitsAndOutlines: the list and the outlines are public.
func TestPublicUnitsAndOutlines(t *testing.T) {
	w := newWorld(t)
	provinces := w.get("/public/units").json(t)
	items := provinces["items"].([]any)
	if len(items) != 34 || provinces["version"] == "" {
		t.Fatalf("%d provinces, version %v", len(items), provinces["version"])
	}
	var laoCai map[string]any
	for _, it := range items {
		if p := it.(map[string]any); p["code"] == "15" {
			laoCai = p
		}
	}
	if laoCai["full_name"] != "Tỉnh Lào Cai" || laoCai["kind_name"] != "Tỉnh" || laoCai["communes"] != float64(99) {
		t.Fatalf("Lào Cai %v", laoCai)
	}
	communes := w.get("/public/units/15/communes").json(t)["items"].([]any)
	if len(communes) != 99 {
		t.Fatalf("%d communes of Lào Cai", len(communes))
	}
	if r := w.get("/public/units/10/communes"); r.Status != http.StatusNotFound {
		t.Fatalf("province 10: %d", r.Status)
	}
	one := w.get("/public/units/outlines?commune=02728")
	f := one.json(t)["features"].([]any)
	if one.Status != http.StatusOK || len(f) != 1 || f[0].(map[string]any)["properties"].(map[string]any)["name"] != "Xã Mường Hum" ||
		f[0].(map[string]any)["geometry"].(map[string]any)["type"] == nil {
		t.Fatalf("outline of Mường Hum: %d %.300s", one.Status, one.Body)
	}
	if n := len(w.get("/public/units/outlines?province=15").json(t)["features"].([]any)); n != 99 {
		t.Fatalf("%d outlines of Lào Cai", n)
	}
	for q, code := range map[string]string{"": "invalid_input", "province=15&commune=02728": "invalid_input",
		"province=10": "unknown_province_code", "commune=99999": "unknown_commune_code"} {
		if r := w.get("/public/units/outlines?" + q); r.errorCode(t) != code {
			t.Errorf("?%s: %d %s, want %s", q, r.Status, r.Body, code)
		}
	}
}

// TestMapCellsAreNamedByCommune: each hexagon of the coverage map carries
// the commune it lies in.
func TestMapCellsAreNamedByCommune(t *testing.T) {
	w := newWorld(t)
	inA, _ := geo.EmbeddedUnits().InsidePoint("02728")
	w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		w.communeA, inA.Lat, inA.Lng, oneAdult), w.staffA)
	r := w.get("/v1/coverage?commune_id="+w.communeA+"&res=8", w.adminA...)
	feats := r.json(t)["features"].([]any)
	if len(feats) != 1 {
		t.Fatalf("%d cells: %s", len(feats), r.Body)
	}
	if p := feats[0].(map[string]any)["properties"].(map[string]any); p["commune_name"] != "Xã Mường Hum" || p["commune_code"] != "02728" {
		t.Fatalf("cell %v", p)
	}
}
