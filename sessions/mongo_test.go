package sessions

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/geo"
)

// A session is stored under the field names queries use (mongo.go) and
// reads back as it was, nested records included.
func TestSessionDocRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	cell, err := geo.CellOf(geo.Point{Lat: 22.45, Lng: 103.75})
	if err != nil {
		t.Fatal(err)
	}
	s := Session{ID: "s1", Version: 3, MentorID: "mai", BranchID: "b1", CommuneID: "c1",
		Learners: []Learner{{HouseholdID: "h1", Member: 0, Language: "hmn"}}, Households: []string{"h1"}, StartsAt: at, Minutes: 60,
		Cell: cell, Topics: []string{"vneid"}, State: StateConfirmed,
		CheckIn: &CheckIn{At: at.Add(time.Minute), Cell: cell, TopicsCovered: []string{"vneid"}, ItemID: "i1",
			Results: []Result{{HouseholdID: "h1", Member: 0, Outcomes: []string{"vneid_activated"}}}},
		Flags:        []string{"late"},
		Confirmation: &Confirmation{By: "fam", Role: "household", Method: "household_app", At: at.Add(time.Hour)},
		Review:       &Review{By: "admin", Decision: "approve", At: at.Add(2 * time.Hour)},
		ScheduleItem: "i0", CreatedAt: at, UpdatedAt: at.Add(2 * time.Hour)}
	raw, err := bson.Marshal(toSessionDoc(s))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{{"_id"}, {"mentor_id"}, {"commune_id"}, {"households"}, {"starts_at"}, {"state"},
		{"check_in", "at"}, {"check_in", "results", "0", "outcomes"}, {"learners", "0", "household_id"}, {"confirmation", "method"},
		{"review", "decision"}, {"created_at"}} {
		if _, err := bson.Raw(raw).LookupErr(path...); err != nil {
			t.Errorf("no %v in %s", path, bson.Raw(raw))
		}
	}
	var d sessionDoc
	if err := bson.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if got := d.session(); !reflect.DeepEqual(got, s) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, s)
	}
	empty := Session{ID: "s2", Version: 1, State: StateScheduled}
	if got := toSessionDoc(empty).session(); got.CheckIn != nil || got.Learners != nil || !slices.Equal(got.Topics, nil) {
		t.Fatalf("an empty session read back %+v", got)
	}
}
