package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"daisuso/matching"
	"daisuso/people"
	"daisuso/programme"
)

// drainPushes runs the notification worker until nothing is due.
func (ta *testAPI) drainPushes() {
	ta.t.Helper()
	for range 100 {
		n, err := ta.notify.SendDue(context.Background())
		if err != nil {
			ta.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	ta.t.Fatal("the notification queue never emptied")
}

// pushesTo returns the kinds delivered to a token, in order.
func (ta *testAPI) pushesTo(token string) []string {
	var out []string
	for _, d := range ta.fcm.Deliveries() {
		if d.Token == token {
			out = append(out, d.Kind)
		}
	}
	return out
}

func (ta *testAPI) registerDevice(auth []string, token, locale string) {
	ta.t.Helper()
	r := ta.post("/v1/devices", fmt.Sprintf(`{"token":%q,"platform":"android","locale":%q}`, token, locale), auth...)
	if r.Status != http.StatusCreated {
		ta.t.Fatalf("register device: %d %s", r.Status, r.Body)
	}
}

func TestDevicesAndNotificationList(t *testing.T) {
	w := newWorld(t)
	vol := w.tokenIn("vol-x", people.RoleVolunteer, w.branchA)
	other := w.tokenIn("vol-y", people.RoleVolunteer, w.branchA)
	for name, tc := range map[string]struct {
		body, code string
	}{
		"token with a space": {`{"token":"a b","platform":"android"}`, "invalid_input"},
		"no token":           {`{"platform":"android"}`, "invalid_input"},
		"unknown platform":   {`{"token":"tok","platform":"symbian"}`, "invalid_input"},
		"unknown locale":     {`{"token":"tok","platform":"ios","locale":"fr"}`, "invalid_input"},
		"extra field":        {`{"token":"tok","platform":"ios","user_id":"vol-y"}`, "unknown_field"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := w.post("/v1/devices", tc.body, vol...); r.Status != http.StatusBadRequest || r.errorCode(t) != tc.code {
				t.Errorf("%d %s, want 400 %s", r.Status, r.Body, tc.code)
			}
		})
	}
	w.registerDevice(vol, "tok-x", "en")
	if r := w.do(http.MethodDelete, "/v1/devices/tok-x", nil, other...); r.Status != http.StatusNotFound {
		t.Errorf("dropping someone else's token: %d", r.Status)
	}

	// A broadcast to branch A reaches vol-x in English and lists in both.
	for _, u := range []string{"vol-x", "vol-y"} {
		if err := w.notifyConsent(u); err != nil {
			t.Fatal(err)
		}
	}
	r := w.post("/v1/notifications/broadcasts", `{"title":"Chiến dịch 10/10","body":"Cùng giúp bà con cài VNeID!"}`, w.adminA...)
	if r.Status != http.StatusAccepted {
		t.Fatalf("broadcast: %d %s", r.Status, r.Body)
	}
	w.drainPushes()
	if got := w.pushesTo("tok-x"); !slices.Equal(got, []string{"broadcast"}) {
		t.Fatalf("pushes to vol-x: %v", got)
	}
	broadcasts := func(auth []string) []map[string]any {
		var out []map[string]any
		for _, it := range w.get("/v1/notifications", auth...).json(t)["items"].([]any) {
			if m := it.(map[string]any); m["kind"] == "broadcast" {
				out = append(out, m)
			}
		}
		return out
	}
	if list := broadcasts(vol); len(list) != 1 || list[0]["title"] != "Chiến dịch 10/10" || list[0]["state"] != "sent" {
		t.Fatalf("list: %v", list)
	}
	// vol-y has no phone: it is in the list all the same.
	if got := broadcasts(other); len(got) != 1 || got[0]["state"] != "no_device" {
		t.Fatalf("list without a phone: %v", got)
	}
	if r := w.do(http.MethodDelete, "/v1/devices/tok-x", nil, vol...); r.Status != http.StatusNoContent {
		t.Errorf("dropping own token: %d %s", r.Status, r.Body)
	}

	// Paging.
	for range 2 {
		if r := w.post("/v1/notifications/broadcasts", `{"title":"Nhắc","body":"Tuần này"}`, w.adminA...); r.Status != http.StatusAccepted {
			t.Fatalf("broadcast: %d %s", r.Status, r.Body)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for range 6 {
		page := w.get("/v1/notifications?limit=1&cursor="+url.QueryEscape(cursor), vol...).json(t)
		for _, it := range page["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 4 { // three broadcasts and the under-quota nudge due next week
		t.Errorf("paging saw %d notifications, want 4", len(seen))
	}
	if r := w.get("/v1/notifications?cursor=bm90LWpzb24", vol...); r.Status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", r.Status)
	}

	// Three a day per unit; not outside one's subtree; text limits.
	if r := w.post("/v1/notifications/broadcasts", `{"title":"Lần 4","body":"Quá nhiều"}`, w.adminA...); r.Status != http.StatusTooManyRequests || r.errorCode(t) != "broadcast_limit" {
		t.Errorf("4th broadcast: %d %s", r.Status, r.Body)
	}
	if r := w.post("/v1/notifications/broadcasts", fmt.Sprintf(`{"title":"Xin chào","body":"Chào các bạn","branch_id":%q}`, w.communeB), w.adminA...); r.Status != http.StatusNotFound {
		t.Errorf("broadcast to another commune: %d %s", r.Status, r.Body)
	}
	if r := w.post("/v1/notifications/broadcasts", fmt.Sprintf(`{"title":%q,"body":"Chào các bạn"}`, strings.Repeat("a", 66)), w.adminB...); r.Status != http.StatusBadRequest {
		t.Errorf("long title: %d %s", r.Status, r.Body)
	}
	if r := w.post("/v1/notifications/broadcasts", `{"title":"Xin chào","body":"Chào các bạn"}`, vol...); r.Status != http.StatusForbidden {
		t.Errorf("volunteer broadcasting: %d", r.Status)
	}
}

// notifyConsent gives a volunteer user a profile consenting to reminders.
func (w *world) notifyConsent(user string) error {
	auth := w.tokenIn(user, "", "")
	lat, lng := at(3, -3)
	r := w.post("/v1/volunteers", fmt.Sprintf(`{"name":"Vàng Văn %s","phone":"09%08d","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":5,"radius_km":1,"consents":["matching","reminders"]}`,
		user, phoneSeq.Add(1), w.branchA, lat, lng), auth...)
	if r.Status != http.StatusCreated {
		return fmt.Errorf("volunteer %s: %d %s", user, r.Status, r.Body)
	}
	return nil
}

func TestRemindersFollowTheWork(t *testing.T) {
	w := newWorld(t)
	// Hùng mentors and wants reminders; the household signs in itself.
	hung := w.tokenIn("hung", "", "")
	lat, lng := at(0.3, 0)
	w.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Sùng A Hùng","phone":"0912345678","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":6,"radius_km":5,"consents":["matching","reminders"]}`, w.branchA, lat, lng), hung)
	hung = w.tokenIn("hung", people.RoleVolunteer, "")
	w.registerDevice(hung, "tok-hung", "vi")
	self := w.tokenIn("hh-1", "", "")
	lat, lng = at(0, 0)
	w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching","reminders"]}`,
		w.communeA, lat, lng, oneAdult), self)
	self = w.tokenIn("hh-1", people.RoleHousehold, "")
	w.registerDevice(self, "tok-hh", "vi")
	staff := w.tokenIn("staff-a", people.RoleCommuneStaff, w.teamA)
	w.registerDevice(staff, "tok-staff", "vi")

	if out := w.ask("hh-1", self); mentorOf(out) != "hung" {
		t.Fatalf("not matched: %v", out)
	}
	w.drainPushes()
	if got := w.pushesTo("tok-hung"); !slices.Equal(got, []string{"new_mentee"}) {
		t.Errorf("mentor got %v, want new_mentee", got)
	}
	if got := w.pushesTo("tok-hh"); !slices.Equal(got, []string{"new_match"}) {
		t.Errorf("household got %v, want new_match", got)
	}
	for _, d := range w.fcm.Deliveries() {
		if strings.Contains(d.Body, "Sùng") || strings.Contains(d.Body, "Lý Thị") || strings.Contains(d.Body, "09") {
			t.Errorf("a push carries more than a first name: %q", d.Body)
		}
	}
	if b := w.fcm.Deliveries()[0].Body + w.fcm.Deliveries()[1].Body; !strings.Contains(b, "Hùng") || !strings.Contains(b, "Hoa") {
		t.Errorf("first names missing from %q", b)
	}

	// A session in 30 minutes: the hour-before reminder goes now, to both.
	id := uuid.NewString()
	start := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	body := fmt.Sprintf(`{"id":%q,"learners":[{"household_id":"hh-1","member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
		id, start.Format(time.RFC3339))
	if r := w.post("/v1/sessions", body, hung...); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	w.drainPushes()
	for _, tok := range []string{"tok-hung", "tok-hh"} {
		if got := w.pushesTo(tok); !slices.Contains(got, "session_soon") {
			t.Errorf("%s got %v, want session_soon", tok, got)
		}
	}
	// A session in three days: tomorrow's reminder is scheduled, then
	// withdrawn when the session is cancelled.
	later := uuid.NewString()
	body = fmt.Sprintf(`{"id":%q,"learners":[{"household_id":"hh-1","member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
		later, time.Now().Add(72*time.Hour).Format(time.RFC3339))
	if r := w.post("/v1/sessions", body, hung...); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	states := func(auth []string) map[string]string {
		out := map[string]string{}
		for _, it := range w.get("/v1/notifications?limit=200", auth...).json(t)["items"].([]any) {
			m := it.(map[string]any)
			if m["ref"] == later {
				out[m["kind"].(string)] = m["state"].(string)
			}
		}
		return out
	}
	if st := states(hung); st["session_tomorrow"] != "pending" || st["session_soon"] != "pending" {
		t.Fatalf("reminders of the later session: %v", st)
	}
	if r := w.post("/v1/sessions/"+later+"/cancel", `{}`, hung...); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if st := states(self); st["session_tomorrow"] != "cancelled" || st["session_soon"] != "cancelled" {
		t.Fatalf("after cancelling: %v", st)
	}

	// Checked in: the household is asked to confirm a day later, and the
	// ask is withdrawn once it confirms.
	lat, lng = at0(0)
	r := w.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":["vneid"]}`,
		time.Now().Format(time.RFC3339), lat, lng), hung...)
	if r.Status != http.StatusOK {
		t.Fatalf("check-in: %d %s", r.Status, r.Body)
	}
	unconfirmed := func() string {
		for _, it := range w.get("/v1/notifications?limit=200", self...).json(t)["items"].([]any) {
			if m := it.(map[string]any); m["kind"] == "session_unconfirmed" {
				return m["state"].(string)
			}
		}
		return ""
	}
	if st := unconfirmed(); st != "pending" {
		t.Fatalf("confirmation reminder: %q, want pending", st)
	}
	if r := w.post("/v1/sessions/"+id+"/confirm", `{}`, self...); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if st := unconfirmed(); st != "cancelled" {
		t.Errorf("confirmation reminder after confirming: %q, want cancelled", st)
	}
	w.drainPushes()
	// The first session earned a badge.
	if got := w.pushesTo("tok-hung"); !slices.Contains(got, "badge_earned") {
		t.Errorf("mentor got %v, want a badge push", got)
	}
	// The mentor will hear if the household goes two weeks without a session.
	found := false
	for _, it := range w.get("/v1/notifications?limit=200", hung...).json(t)["items"].([]any) {
		m := it.(map[string]any)
		if m["kind"] == "learner_inactive" && m["state"] == "pending" {
			due, _ := time.Parse(time.RFC3339, m["due_at"].(string))
			found = found || due.After(time.Now().Add(13*24*time.Hour))
		}
	}
	if !found {
		t.Error("no inactivity reminder two weeks out")
	}

	// Nobody within reach: the commune's staff are told.
	far := w.householdAt(40, -40, oneAdult)
	if out := w.ask(far, w.staffA); out["state"] != "waiting" {
		t.Fatalf("far request: %v", out)
	}
	w.drainPushes()
	if got := w.pushesTo("tok-staff"); !slices.Contains(got, "request_unserved") {
		t.Errorf("staff got %v, want request_unserved", got)
	}
}

func TestHouseholdWithoutPhoneIsRemindedThroughStaff(t *testing.T) {
	w := newWorld(t)
	staff := w.tokenIn("staff-a", people.RoleCommuneStaff, w.teamA)
	w.registerDevice(staff, "tok-staff", "vi")
	hung := w.tokenIn("hung", "", "")
	lat, lng := at(0.3, 0)
	w.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Sùng A Hùng","phone":"0912345679","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":6,"radius_km":5,"consents":["matching","reminders"]}`, w.branchA, lat, lng), hung)
	hung = w.tokenIn("hung", people.RoleVolunteer, "")
	// Registered by staff on the household's behalf, consenting to reminders.
	lat, lng = at(0, 0)
	hh := w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching","reminders"]}`,
		w.communeA, lat, lng, oneAdult), w.staffA)["id"].(string)
	if out := w.ask(hh, w.staffA); mentorOf(out) != "hung" {
		t.Fatalf("not matched: %v", out)
	}
	id := uuid.NewString()
	body := fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
		id, hh, time.Now().Add(20*time.Minute).Format(time.RFC3339))
	if r := w.post("/v1/sessions", body, hung...); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	w.drainPushes()
	var toStaff []string
	for _, d := range w.fcm.Deliveries() {
		if d.Token == "tok-staff" {
			toStaff = append(toStaff, d.Body)
		}
	}
	if len(toStaff) != 1 || !strings.HasPrefix(toStaff[0], "Nhắc giúp Hoa: ") {
		t.Errorf("staff got %q, want one reminder on behalf of Hoa", toStaff)
	}
}

// TestOverdueRequestsGoUpToTheProvince: a request waiting longer than a
// week reaches the province union's admins in one digest naming its
// commune, once.
func TestOverdueRequestsGoUpToTheProvince(t *testing.T) {
	w := newWorld(t)
	provAdmin := w.tokenIn("prov-admin", people.RoleBranchAdmin, w.province)
	w.get("/v1/notifications", provAdmin...) // signed in once: the user exists
	for range 2 {
		if out := w.ask(w.householdAt(0, -30, oneAdult), w.staffA); out["state"] != "waiting" {
			t.Fatalf("%v", out)
		}
	}
	later := matching.New(matching.Config{DB: w.db, Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }})
	for i, want := range []int{1, 0} {
		sent, err := programme.EscalateOverdue(t.Context(), w.deps.People, later, w.deps.Notify)
		if err != nil || sent != want {
			t.Fatalf("escalation %d: %d notifications (%v), want %d", i+1, sent, err, want)
		}
	}
	var bodies []string
	for _, it := range w.get("/v1/notifications", provAdmin...).json(t)["items"].([]any) {
		if n := it.(map[string]any); n["kind"] == "requests_overdue" {
			bodies = append(bodies, n["body"].(string))
		}
	}
	if len(bodies) != 1 || !strings.HasPrefix(bodies[0], "2 yêu cầu") || !strings.Contains(bodies[0], "Xã Mường Hum (2)") {
		t.Fatalf("the province admin's digest: %v", bodies)
	}
}
