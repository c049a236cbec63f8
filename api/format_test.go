package api

import (
	"encoding/json"
	"testing"
	"time"

	"daisuso/matching"
	"daisuso/people"
)

func TestVietnameseNumberAndDateForms(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatInt("vi", 0), "0"},
		{formatInt("vi", 999), "999"},
		{formatInt("vi", 1000), "1.000"},
		{formatInt("vi", 1234567), "1.234.567"},
		{formatInt("en", 1234567), "1,234,567"},
		{formatInt("vi", -12345), "-12.345"},
		{formatDecimal("vi", 0.6), "0,6"},
		{formatDecimal("en", 0.6), "0.6"},
		{formatTime("vi", time.Date(2026, 12, 5, 7, 5, 0, 0, time.UTC)), "14:05 ngày 05/12/2026"},
		{formatTime("en", time.Date(2026, 12, 5, 7, 5, 0, 0, time.UTC)), "14:05, 5 Dec 2026"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestExplanationInWords(t *testing.T) {
	e := matching.Explanation{DistanceKm: 0.6, SharedLanguage: "hmn", TopicsCovered: []string{"smartphone_basics", "vneid"}, MentorNeededLearners: 5}
	vi := explainText("vi", "Mai", e, 1)
	if vi != `Mai ở cách khoảng 0,6 km, nói được tiếng H'Mông; hướng dẫn được: Sử dụng điện thoại thông minh cơ bản, Định danh điện tử VNeID; tính cả gia đình bạn, Mai cần thêm 4 người học nữa để đạt "1 kèm 5".` {
		t.Errorf("vi: %s", vi)
	}
	en := explainText("en", "Mai", e, 1)
	if en != "Mai lives about 0.6 km away and speaks Hmong; can teach: Smartphone basics, VNeID digital identity; with you, Mai needs 4 more learners to reach 5." {
		t.Errorf("en: %s", en)
	}
	// The fifth learner: nothing more is needed.
	if s := explainText("vi", "Mai", matching.Explanation{DistanceKm: 1.25, MentorNeededLearners: 1}, 1); s != "Mai ở cách khoảng 1,2 km." && s != "Mai ở cách khoảng 1,3 km." {
		t.Errorf("fifth: %s", s)
	}
}

func TestFieldErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		lang, field, reason, want string
	}{
		{"vi", "members[0].name", "required", "Cần điền họ tên của thành viên thứ 1."},
		{"en", "members[0].name", "required", "Please fill in the name of member 1."},
		{"vi", "radius_km", "out_of_range", "Bán kính đi lại (km) nằm ngoài khoảng cho phép; xem giới hạn trong tài liệu API (/openapi.json)."},
		{"vi", "household_id", "no_such_reason", "Giá trị của trường hộ gia đình không hợp lệ."},
	} {
		if got := message(tc.lang, "invalid_input", map[string]any{"field": tc.field, "reason": tc.reason}); got != tc.want {
			t.Errorf("%s %s %s: %q, want %q", tc.lang, tc.field, tc.reason, got, tc.want)
		}
	}
}

func TestExportUsesTheAPIsNames(t *testing.T) {
	for in, want := range map[string]string{"RequestID": "request_id", "EarnedAt": "earned_at", "WhyVI": "why_vi",
		"DistanceKm": "distance_km", "CheckIn": "check_in", "ID": "id", "TopicsCovered": "topics_covered"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
	got := exportValue([]matching.Assignment{{RequestID: "rq_1", DistanceKm: 0.6213, Explanation: matching.Explanation{TopicsCovered: []string{"vneid"}}}})
	a := got.([]any)[0].(map[string]any)
	if a["request_id"] != "rq_1" || a["distance_km"] != 0.6 || a["explanation"].(map[string]any)["topics_covered"].([]any)[0] != "vneid" {
		t.Fatalf("export: %v", a)
	}
	if _, ok := a["RequestID"]; ok {
		t.Fatalf("a Go field name: %v", a)
	}
}

// TestOpenAPIStatesTheValueConventions: the codes, ranges and formats a
// client must send are in the description, from the service's own lists.
func TestOpenAPIStatesTheValueConventions(t *testing.T) {
	ta := newTestAPI(t)
	var doc map[string]any
	if err := json.Unmarshal(ta.get("/openapi.json").Body, &doc); err != nil {
		t.Fatal(err)
	}
	schema := func(path, method string) map[string]any {
		op := doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
		return op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["properties"].(map[string]any)
	}
	v := schema("/v1/volunteers", "post")
	if c := v["capacity"].(map[string]any); c["minimum"] != 5.0 || c["maximum"] != 20.0 {
		t.Errorf("capacity: %v", c)
	}
	if l := v["languages"].(map[string]any)["items"].(map[string]any)["enum"].([]any); len(l) != len(people.Languages) || l[0] != "vi" {
		t.Errorf("languages: %v", l)
	}
	if d := v["availability"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)["day"].(map[string]any); d["minimum"] != 1.0 || d["maximum"] != 7.0 || d["description"] == nil {
		t.Errorf("availability day: %v", d)
	}
	if m := schema("/v1/sessions", "post")["minutes"].(map[string]any); m["minimum"] != 15.0 || m["maximum"] != 240.0 {
		t.Errorf("minutes: %v", m)
	}
	out := schema("/v1/sessions/{id}/check-in", "post")["results"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)["outcomes"].(map[string]any)
	if e := out["items"].(map[string]any)["enum"].([]any); len(e) != 4 || e[0] != "vneid_activated" {
		t.Errorf("outcomes: %v", out)
	}
}

// TestEveryErrorHasDetails: API.md's error body always has details, {}
// when there is nothing to add.
func TestEveryErrorHasDetails(t *testing.T) {
	ta := newTestAPI(t)
	for _, r := range []response{ta.get("/nowhere"), ta.get("/v1/me"), ta.post("/v1/dev/token", `{`)} {
		var body struct {
			Error struct {
				Code    string          `json:"code"`
				Details json.RawMessage `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Error.Code == "" || len(body.Error.Details) == 0 || string(body.Error.Details) == "null" {
			t.Errorf("%d %s: no details", r.Status, r.Body)
		}
	}
}
