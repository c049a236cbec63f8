package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"daisuso/geo"
	"daisuso/store/storetest"
)

// writeUnits writes a list of units in the shape of geo/units, with edit
// applied to the decoded units.json and communes.geojson first.
func writeUnits(t *testing.T, u *geo.Units, edit func(list, outlines map[string]any)) string {
	t.Helper()
	listJSON, err := u.MarshalList()
	if err != nil {
		t.Fatal(err)
	}
	outlinesJSON, err := u.MarshalOutlines()
	if err != nil {
		t.Fatal(err)
	}
	var list, outlines map[string]any
	if err := json.Unmarshal(listJSON, &list); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(outlinesJSON, &outlines); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(list, outlines)
	}
	dir := t.TempDir()
	for name, v := range map[string]any{"units.json": list, "communes.geojson": outlines} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestUnitsImportFollowsANewerList: a service running on a list (UNITS_DIR)
// is given a newer one in which Mường Nhé became a ward, Nậm Kè was merged
// into Quảng Lâm (which has no union) and Mường Toong into Mường Nhé (which
// has). `daisuso units import` reports each change, renames Mường Nhé's
// union, moves Nậm Kè's union with its people to Quảng Lâm's code, leaves
// Mường Toong's for people to merge, and changes nothing more when run
// again; the service on the new list names the unions by it.
func TestUnitsImportFollowsANewerList(t *testing.T) {
	storetest.Long(t)
	old := geo.EmbeddedUnits().Subset("11")
	oldDir := writeUnits(t, old, nil)
	newDir := writeUnits(t, old, func(list, outlines map[string]any) {
		list["version"] = "2027-01-01"
		prov := list["provinces"].([]any)[0].(map[string]any)
		var kept []any
		for _, c := range prov["communes"].([]any) {
			c := c.(map[string]any)
			switch c["code"] {
			case "03160":
				c["kind"], c["full_name"] = "phuong", "Phường Mường Nhé"
			case "03162", "03163":
				continue
			}
			kept = append(kept, c)
		}
		prov["communes"] = kept
		feats := outlines["features"].([]any)
		byCode := map[string]map[string]any{}
		for _, f := range feats {
			byCode[f.(map[string]any)["properties"].(map[string]any)["code"].(string)] = f.(map[string]any)
		}
		absorb := func(into, from string) {
			g := byCode[into]["geometry"].(map[string]any)
			g["coordinates"] = append(g["coordinates"].([]any), byCode[from]["geometry"].(map[string]any)["coordinates"].([]any)...)
		}
		absorb("03164", "03162")
		absorb("03160", "03163")
		var rest []any
		for _, f := range feats {
			if code := f.(map[string]any)["properties"].(map[string]any)["code"]; code != "03162" && code != "03163" {
				rest = append(rest, f)
			}
		}
		outlines["features"] = rest
	})
	env := map[string]string{"MONGODB_URI": storetest.MongoURI(t), "MONGODB_DATABASE": storetest.Name("u_"),
		"REDIS_URL": storetest.RedisURL(t), "REDIS_PREFIX": storetest.Name("u") + ":", "DEV_MODE": "true",
		"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn", "UNITS_DIR": oldDir, "RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0"}
	c := startChild(t, env)
	admin := c.token("root", "admin", "")
	prov := c.must("/v1/branches", `{"kind":"province","province_code":"11"}`, admin)["id"].(string)
	union := map[string]string{}
	for _, code := range []string{"03160", "03162", "03163"} {
		union[code] = c.must("/v1/branches", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":%q}`, prov, code), admin)["id"].(string)
	}
	branch := c.must("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn bản Nậm Kè","parent_id":%q}`, union["03162"]), admin)["id"].(string)
	inNamKe, _ := old.InsidePoint("03162")
	hh := c.must("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":[{"name":"Giàng A Páo","birth_year":1960,"needs":["vneid"],"self_consent":true}],"consents":["matching"]}`,
		union["03162"], inNamKe.Lat, inNamKe.Lng), admin)["id"].(string)
	vol := c.token("vol-nk", "", "")
	c.must("/v1/volunteers", fmt.Sprintf(`{"name":"Lò Thị Mai","phone":"0912 345 001","branch_id":%q,"location":{"lat":%v,"lng":%v},"languages":["vi"],"topics":["vneid"],"consents":["matching"]}`,
		branch, inNamKe.Lat, inNamKe.Lng), vol)

	importOnce := func() string {
		var out bytes.Buffer
		getenv := func(k string) string { return env[k] }
		if err := run(context.Background(), []string{"units", "import", filepath.Join(newDir, "units.json")}, getenv, &out); err != nil {
			t.Fatalf("units import: %v\n%s", err, out.String())
		}
		return out.String()
	}
	report := importOnce()
	for _, want := range []string{
		"list 2026-07-25 -> 2027-01-01: 0 added, 1 renamed, 2 merged, 0 removed",
		"renamed commune 03160 Xã Mường Nhé -> Phường Mường Nhé",
		"merged  commune 03162 Xã Nậm Kè -> 03164 Xã Quảng Lâm",
		"merged  commune 03163 Xã Mường Toong -> 03160 Phường Mường Nhé",
		"union " + union["03162"] + ": moved from 03162 to 03164 Xã Quảng Lâm",
		"union " + union["03163"] + " (03163): left as it is",
		"run the service with UNITS_DIR=",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if again := importOnce(); strings.Contains(again, "moved from") {
		t.Errorf("a second import moved a union again:\n%s", again)
	}

	// The service on the new list.
	env["UNITS_DIR"] = newDir
	c2 := startChild(t, env)
	admin = c2.token("root", "admin", "")
	get := func(path string) map[string]any {
		res := call(t, http.MethodGet, c2.base+path, "", admin)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		return jsonOf(t, res)
	}
	if b := get("/v1/branches/" + union["03160"]); b["name"] != "Phường Mường Nhé" || b["unit_kind"] != "phuong" {
		t.Errorf("Mường Nhé's union: %v", b)
	}
	if b := get("/v1/branches/" + union["03162"]); b["name"] != "Xã Quảng Lâm" || b["commune_code"] != "03164" {
		t.Errorf("Nậm Kè's union: %v", b)
	}
	if b := get("/v1/branches/" + branch); b["commune_code"] != "03164" {
		t.Errorf("its branch: %v", b)
	}
	if h := get("/v1/households/" + hh); h["commune_code"] != "03164" || h["outside_commune"] != false {
		t.Errorf("its household: %v", h)
	}
	if v := get("/v1/volunteers/vol-nk"); v["commune_code"] != "03164" {
		t.Errorf("its volunteer: %v", v)
	}
	if b := get("/v1/branches/" + union["03163"]); b["commune_code"] != "03163" {
		t.Errorf("Mường Toong's union moved: %v", b)
	}
	for code, want := range map[string]int{"03162": http.StatusUnprocessableEntity, "03164": http.StatusConflict} {
		res := call(t, http.MethodPost, c2.base+"/v1/branches", fmt.Sprintf(`{"kind":"commune","parent_id":%q,"commune_code":%q}`, prov, code), admin)
		if res.status != want {
			t.Errorf("a union for %s: %d %s, want %d", code, res.status, res.body, want)
		}
	}
}
