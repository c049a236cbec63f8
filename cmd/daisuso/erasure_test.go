package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"daisuso/store/storetest"

	"github.com/google/uuid"
)

// TestErasureLeavesNoTrace: after a volunteer and a household are erased
// on the embedded default, no notification to anyone names them, and a
// byte search of every file in DATA_DIR (the SQLite files, their logs)
// finds neither their names nor their phone numbers.
func TestErasureLeavesNoTrace(t *testing.T) {
	storetest.Long(t)
	dir := t.TempDir()
	c := startChild(t, map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "warn", "RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0"})
	admin := c.token("root", "admin", "")
	prov := c.must("/v1/branches", `{"kind":"province","name":"Tỉnh đoàn Lào Cai","province_code":"15"}`, admin)["id"].(string)
	commune := c.must("/v1/branches", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã Mường Hum","parent_id":%q,"commune_code":"02728"}`, prov), admin)["id"].(string)
	branch := c.must("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn thôn Séo Pả","parent_id":%q}`, commune), admin)["id"].(string)
	chief := c.token("chief", "branch_admin", commune)
	staff := c.token("staff", "commune_staff", commune)
	c.must("/v1/volunteers", fmt.Sprintf(`{"name":"Lò Thị Zyxquat","phone":"0912 777 123","branch_id":%q,"location":{"lat":22.5379,"lng":103.7625},
		"languages":["vi"],"topics":["vneid"],"capacity":10,"radius_km":3,"consents":["matching","reminders","public_ranking"]}`, branch), c.token("zyx", "", ""))
	mentor := c.token("zyx", "", "")
	hh := c.must("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":22.5389,"lng":103.7625},"contact_phone":"0987 555 321",
		"members":[{"name":"Giàng A Qwvbnmz","birth_year":1960,"needs":["vneid"],"self_consent":true}],"consents":["matching","reminders"]}`, commune), staff)["id"].(string)
	c.must("/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, hh), staff)
	sid, at := uuid.NewString(), time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339)
	c.must("/v1/sessions", fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60}`, sid, hh, at), mentor)
	held := c.must("/v1/sessions/"+sid+"/check-in", fmt.Sprintf(`{"at":%q,"topics_covered":["vneid"],"results":[{"household_id":%q,"member":0,"outcomes":["vneid_activated"]}]}`, at, hh), mentor)
	c.must("/v1/sessions/"+sid+"/confirm", fmt.Sprintf(`{"code":%q}`, held["confirmation_code"]), staff)
	secrets := []string{"Zyxquat", "Qwvbnmz", "912777123", "987555321"}
	if !bytes.Contains(call(t, http.MethodGet, c.base+"/v1/notifications", "", chief).body, []byte("Zyxquat")) {
		t.Log("the commune admin had no notification naming the volunteer before her erasure")
	}

	for _, del := range []struct{ path, token string }{{"/v1/households/" + hh, staff}, {"/v1/volunteers/zyx", mentor}} {
		if r := call(t, http.MethodDelete, c.base+del.path, "", del.token); r.status != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d %s", del.path, r.status, r.body)
		}
	}
	for _, who := range []string{chief, staff} {
		if b := call(t, http.MethodGet, c.base+"/v1/notifications", "", who).body; bytes.Contains(b, []byte("Zyxquat")) || bytes.Contains(b, []byte("Qwvbnmz")) {
			t.Errorf("a notification still names an erased person: %s", b)
		}
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if i := bytes.Index(b, []byte(s)); i >= 0 {
				t.Errorf("%s holds %q at byte %d after the erasure", path, s, i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
