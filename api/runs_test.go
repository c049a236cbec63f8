package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestBatchRunProposeApplyDiscard(t *testing.T) {
	w := newWorld(t)
	// Seven households ask before any mentor is near: they wait.
	var waiting []string
	for i := range 7 {
		out := w.ask(w.householdAt(float64(i)*0.05, 0, oneAdult), w.staffA)
		if out["state"] != "waiting" {
			t.Fatalf("%v", out)
		}
		waiting = append(waiting, out["id"].(string))
	}
	w.batchOnlyMentor("solo", 0.2, 0.1, `["vi"]`, 5, 2)
	w.batchOnlyMentor("elsewhere", 0, -5, `["vi"]`, 10, 2) // near, but its 2 km reach no one

	r := w.post("/v1/matching/runs", fmt.Sprintf(`{"commune_id":%q}`, w.communeA), w.adminA...)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	run := r.json(t)
	s := run["summary"].(map[string]any)
	if run["status"] != "proposed" || s["requests"] != 7.0 || s["served_learners"] != 5.0 ||
		s["unserved_learners"].(map[string]any)["all_mentors_full"] != 2.0 || s["missing_slots"] != 5.0 ||
		s["under_quota_why"].(map[string]any)["no_learner_in_reach"] != 1.0 {
		t.Fatalf("run %s", r.Body)
	}
	id := run["id"].(string)
	// Nothing is assigned by a proposal.
	if n, _ := w.db.Collection("slots").CountDocuments(context.Background(), bson.D{{Key: "mentor_id", Value: "solo"}}); n != 0 {
		t.Fatalf("%d slots taken by a mere proposal", n)
	}
	if r := w.get("/v1/matching/runs/"+id, w.adminB...); r.Status != 404 {
		t.Fatalf("another commune's admin read the run: %d", r.Status)
	}

	// Online matching takes one of solo's places before the run is applied.
	if out := w.ask(w.householdAt(0.2, 0.1, oneAdult), w.staffA); mentorOf(out) != "solo" {
		t.Fatalf("%v", out)
	}
	applied := w.post("/v1/matching/runs/"+id+"/apply", "", w.adminA...)
	if applied.Status != 200 {
		t.Fatalf("%d %s", applied.Status, applied.Body)
	}
	a := applied.json(t)
	if a["status"] != "applied" || a["applied"] != 4.0 || a["skipped"] != 1.0 {
		t.Fatalf("apply %s", applied.Body)
	}
	if n, _ := w.db.Collection("slots").CountDocuments(context.Background(), bson.D{{Key: "mentor_id", Value: "solo"}}); n != 5 {
		t.Fatalf("solo holds %d slots, capacity 5", n)
	}
	again := w.post("/v1/matching/runs/"+id+"/apply", "", w.adminA...).json(t)
	if again["applied"] != 4.0 || again["skipped"] != 1.0 {
		t.Fatalf("second apply %v", again)
	}
	if r := w.post("/v1/matching/runs/"+id+"/discard", "", w.adminA...); r.Status != http.StatusConflict || r.errorCode(t) != "run_already_decided" {
		t.Fatalf("discard after apply: %d %s", r.Status, r.Body)
	}
	matched := 0
	for _, rq := range waiting {
		if w.get("/v1/help-requests/"+rq, w.staffA...).json(t)["state"] == "matched" {
			matched++
		}
	}
	if matched != 4 {
		t.Fatalf("%d of the waiting requests matched, want 4", matched)
	}

	t.Run("discard", func(t *testing.T) {
		r := w.post("/v1/matching/runs", fmt.Sprintf(`{"branch_id":%q}`, w.branchA), w.adminA...).json(t)
		d := w.post("/v1/matching/runs/"+r["id"].(string)+"/discard", "", w.adminA...)
		if d.Status != 200 || d.json(t)["status"] != "discarded" {
			t.Fatalf("%d %s", d.Status, d.Body)
		}
		if ap := w.post("/v1/matching/runs/"+r["id"].(string)+"/apply", "", w.adminA...); ap.Status != 409 {
			t.Fatalf("apply after discard: %d", ap.Status)
		}
	})
	t.Run("area rules", func(t *testing.T) {
		for name, c := range map[string]struct {
			body   string
			auth   []string
			status int
		}{
			"another commune":       {fmt.Sprintf(`{"commune_id":%q}`, w.communeB), w.adminA, 404},
			"nothing named":         {`{}`, w.adminA, 400},
			"two areas":             {fmt.Sprintf(`{"commune_id":%q,"branch_id":%q}`, w.communeA, w.branchA), w.adminA, 400},
			"cells by branch admin": {`{"cells":["8740609ffffffff"]}`, w.adminA, 422},
			"bad cell":              {`{"cells":["zz"]}`, w.admin, 400},
		} {
			if r := w.post("/v1/matching/runs", c.body, c.auth...); r.Status != c.status {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
	})
}
