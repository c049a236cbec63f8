package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCoverage(t *testing.T) {
	w := newWorld(t)
	w.mentorAt("cov", 0, 0, `["vi"]`, 10, 2)
	for i := range 6 {
		w.householdAt(0.05*float64(i), 0, oneAdult) // six in one place
	}
	lonely := w.householdAt(-6, -6, oneAdult) // one alone, far away
	w.ask(lonely, w.staffA)                   // waits: nobody near

	r := w.get("/v1/coverage?res=7&commune_id="+w.communeA, w.adminA...)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	fc := r.json(t)
	households, waiting, mentors, free := 0.0, 0.0, 0.0, 0.0
	for _, f := range fc["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		households += p["households"].(float64)
		waiting += p["learners_waiting"].(float64)
		mentors += p["mentors"].(float64)
		free += p["free_capacity"].(float64)
		ring := f.(map[string]any)["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)
		if len(ring) < 7 || fmt.Sprint(ring[0]) != fmt.Sprint(ring[len(ring)-1]) {
			t.Fatalf("not a closed hexagon: %v", ring)
		}
	}
	if households != 7 || waiting != 1 || mentors != 1 || free != 10 {
		t.Fatalf("households %v waiting %v mentors %v free %v", households, waiting, mentors, free)
	}
	if r := w.get("/v1/coverage?commune_id="+w.communeA, w.adminB...); r.Status != 404 {
		t.Fatalf("another commune's admin: %d", r.Status)
	}
	if r := w.get("/v1/coverage?res=9&commune_id="+w.communeA, w.adminA...); r.Status != 400 {
		t.Fatalf("res 9: %d", r.Status)
	}

	pub := w.get("/public/coverage?commune_id=" + w.communeA)
	if pub.Status != 200 {
		t.Fatalf("%d %s", pub.Status, pub.Body)
	}
	for _, f := range pub.json(t)["features"].([]any) {
		if n := f.(map[string]any)["properties"].(map[string]any)["households"].(float64); n < 5 {
			t.Fatalf("public map shows a cell of %v households", n)
		}
	}
	if strings.Contains(pub.String(), "Lý Thị Hoa") || strings.Contains(pub.String(), "phone") {
		t.Fatal("public map holds personal data")
	}
}

// TestPublicCoverageCannotBeDifferenced: a cell across a commune border
// shows the same figures in every public map that has it, so subtracting
// one commune's map from another's or from the province's reveals no
// part of fewer than five households.
func TestPublicCoverageCannotBeDifferenced(t *testing.T) {
	w := newWorld(t)
	// Three households of commune A and five of commune B, all in one
	// resolution-7 cell.
	for i := range 8 {
		commune := w.communeB
		if i < 3 {
			commune = w.communeA
		}
		lat, lng := at(0.05*float64(i), 0)
		w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
			commune, lat, lng, oneAdult), w.admin)
	}
	maps := map[string]map[string]float64{}
	for name, q := range map[string]string{"A": "commune_id=" + w.communeA, "B": "commune_id=" + w.communeB, "province": "province_id=" + w.province} {
		r := w.get("/public/coverage?" + q)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
		maps[name] = map[string]float64{}
		for _, f := range r.json(t)["features"].([]any) {
			p := f.(map[string]any)["properties"].(map[string]any)
			maps[name][p["cell"].(string)] = p["households"].(float64)
		}
	}
	if len(maps["province"]) == 0 {
		t.Fatalf("the province's map is empty: %v", maps)
	}
	for name, m := range maps {
		for cell, n := range m {
			if want := maps["province"][cell]; n != want || n < 5 {
				t.Errorf("map %s shows cell %s with %v households; the province's map %v", name, cell, n, want)
			}
		}
	}
}
