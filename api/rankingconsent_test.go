package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"daisuso/gamify"
)

// TestPublicRankingConsentIsEnforced: a volunteer without the
// public_ranking consent is on no list by name or id, keeps her place (so
// the ranks of others do not move), reads her own standing, and counts for
// her branch; withdrawing or giving the consent shows on the next read.
func TestPublicRankingConsentIsEnforced(t *testing.T) {
	w := newWorld(t)
	w.mentorAt("mai", 0.4, 0, `["vi"]`, 5, 2) // with the consent
	lat, lng := at(1, 0)
	lan := w.tokenIn("lan", "", "")
	w.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Vàng Thị Lan","phone":"0977000111","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":5,"radius_km":2,"consents":["matching"]}`, w.branchA, lat, lng), lan)
	award := func(id string, points int) {
		who := gamify.Who{VolunteerID: id, Name: strings.ToUpper(id[:1]) + id[1:], BranchID: w.branchA, BranchName: "Chi đoàn thôn Séo Pả",
			CommuneID: w.communeA, CommuneName: "Xã Mường Hum", ProvinceCode: "15", CommuneCode: "02728"}
		for i := range points / 10 {
			if _, _, err := w.deps.Gamify.Award(context.Background(), gamify.Award{Key: fmt.Sprintf("test:%s:%d", id, i),
				Reason: gamify.ReasonSession, Source: "test", Who: who, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	award("lan", 30)
	award("mai", 20)
	top := func(limit int) response {
		r := w.get(fmt.Sprintf("/v1/leaderboards/all?board=volunteers&scope=national&period=campaign&limit=%d", limit), w.admin...)
		if r.Status != http.StatusOK {
			t.Fatalf("top: %d %s", r.Status, r.Body)
		}
		return r
	}
	shows := func(r response, id string) bool {
		for _, it := range r.json(t)["items"].([]any) {
			if it.(map[string]any)["id"] == id {
				return true
			}
		}
		return false
	}
	for _, limit := range []int{1, 10} {
		r := top(limit)
		items := r.json(t)["items"].([]any)
		if strings.Contains(string(r.Body), "lan") || strings.Contains(string(r.Body), "Lan") || len(items) != 1 ||
			items[0].(map[string]any)["id"] != "mai" || items[0].(map[string]any)["rank"] != 2.0 {
			t.Fatalf("top %d with Lan hidden: %s", limit, r.Body)
		}
	}
	me := w.get("/v1/leaderboards/all/me?period=campaign", lan...).json(t)
	if me["rank"] != 1.0 || me["points"] != 30.0 {
		t.Fatalf("Lan's own standing: %v", me)
	}
	if r := w.get("/v1/leaderboards/all/me?period=campaign", w.tokenIn("mai", "", "")...); strings.Contains(string(r.Body), `"lan"`) {
		t.Fatalf("Mai's neighbours show Lan: %s", r.Body)
	}
	br := w.get("/v1/leaderboards/all?board=branches&scope=national&period=campaign", w.admin...).json(t)["items"].([]any)
	if len(br) != 1 || br[0].(map[string]any)["points"] != 50.0 {
		t.Fatalf("the branch board counts both: %v", br)
	}

	// Lan consents, Mai withdraws: the next reads follow.
	if r := w.do(http.MethodPatch, "/v1/volunteers/lan", strings.NewReader(`{"consents":["matching","public_ranking"]}`), lan...); r.Status != http.StatusOK {
		t.Fatalf("consent: %d %s", r.Status, r.Body)
	}
	mai := w.tokenIn("mai", "", "")
	if r := w.do(http.MethodPatch, "/v1/volunteers/mai", strings.NewReader(`{"consents":["matching"]}`), mai...); r.Status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	if r := top(10); !shows(r, "lan") || shows(r, "mai") {
		t.Fatalf("after the changes: %s", r.Body)
	}
}

// TestActiveCampaignsAreLimited: a unit runs at most five campaigns at
// once, also when its admin sends twenty at the same moment; the list
// comes a page at a time.
func TestActiveCampaignsAreLimited(t *testing.T) {
	w := newWorld(t)
	now := time.Now()
	body := func(i int) string {
		return fmt.Sprintf(`{"name":"Đợt %d","scope":"commune:02728","starts_at":%q,"ends_at":%q}`, i,
			now.Add(-time.Hour).Format(time.RFC3339), now.Add(240*time.Hour).Format(time.RFC3339))
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			r := w.post("/v1/campaigns", body(i), w.adminA...)
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusCreated] != 5 || statuses[http.StatusUnprocessableEntity] != 15 {
		t.Fatalf("20 campaigns at once: %v, want 5 created and 15 refused", statuses)
	}
	if r := w.post("/v1/campaigns", body(21), w.adminA...); r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "too_many_active_campaigns" {
		t.Fatalf("a sixth: %d %s", r.Status, r.Body)
	}
	// Another commune is not held back; one that ended frees no place
	// needed, being over.
	if r := w.post("/v1/campaigns", strings.Replace(body(1), "02728", "02725", 1), w.adminB...); r.Status != http.StatusCreated {
		t.Fatalf("commune B: %d %s", r.Status, r.Body)
	}
	seen, cursor := 0, ""
	for range 10 {
		page := w.get("/v1/campaigns?limit=2&cursor="+cursor, w.adminA...).json(t)
		seen += len(page["items"].([]any))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 7 { // all-time, five in A, one in B
		t.Fatalf("paging saw %d campaigns, want 7", seen)
	}
}
