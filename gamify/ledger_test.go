package gamify

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// An entry is written in the third layout (its own fields for what audits
// ask, one document for what the boards need) and read back whole,
// credits of two campaigns included.
func TestLedgerLayoutRoundTrips(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.CreateCampaign(ctx, NewCampaign{Name: "Tháng 11", Scope: ScopeNational, StartsAt: f.now.Add(-time.Hour),
		EndsAt: f.now.Add(time.Hour), Multipliers: []Multiplier{{Date: "2026-11-23", Factor: 2}}}, "admin", nil); err != nil {
		t.Fatal(err)
	}
	w := who(4)
	w.Name = `Lan "Bé" \ Hà` // JSON's own characters survive
	made, ok, err := f.Award(ctx, Award{Key: "session:s1", Reason: ReasonSession, Source: "s1", Who: w, At: f.now})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	raw, err := f.ledger.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "session:s1"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	elems, _ := raw.Elements()
	for _, e := range elems {
		keys = append(keys, e.Key())
	}
	if want := []string{"_id", "reason", "source", "points", "at", "volunteer", "boards"}; !slices.Equal(keys, want) {
		t.Fatalf("stored fields %v, want %v", keys, want)
	}
	boards, ok := raw.Lookup("boards").DocumentOK()
	if !ok {
		t.Fatalf("boards is not a document: %s", raw.Lookup("boards"))
	}
	if name := boards.Lookup("name").StringValue(); name != w.Name {
		t.Fatalf("boards.name %q", name)
	}
	if c := boards.Lookup("credits", "1", "points").AsInt64(); c != 20 {
		t.Fatalf("boards.credits.1.points %d", c)
	}
	got, err := f.ledger.of(ctx, w.VolunteerID)
	if err != nil || len(got) != 1 {
		t.Fatalf("of: %v, %v", got, err)
	}
	if len(made.Credits) != 2 || made.Credits[1].Points != 20 || !reflect.DeepEqual(got[0], made) {
		t.Fatalf("read back %+v, awarded %+v", got[0], made)
	}
}

// A ledger with entries of the first and second layouts is not current
// and EnsureIndexes leaves it as it is; UpgradeLedger rewrites it, the
// boards rebuilt from it are the same, and run again it rewrites nothing.
func TestEarlierLedgerLayoutsAreUpgraded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.meta.DeleteMany(ctx, bson.D{}); err != nil { // as a ledger written before the third layout
		t.Fatal(err)
	}
	firstLayout := func(i int, key string) bson.D {
		w := who(i)
		return bson.D{{Key: "_id", Value: key}, {Key: "reason", Value: ReasonSession}, {Key: "source", Value: "src" + key},
			{Key: "points", Value: 10}, {Key: "at", Value: f.now},
			{Key: "who", Value: bson.D{{Key: "volunteer_id", Value: w.VolunteerID}, {Key: "name", Value: w.Name},
				{Key: "branch_id", Value: w.BranchID}, {Key: "branch_name", Value: w.BranchName},
				{Key: "commune_id", Value: w.CommuneID}, {Key: "commune_name", Value: w.CommuneName},
				{Key: "province_code", Value: w.ProvinceCode}, {Key: "commune_code", Value: w.CommuneCode}}},
			{Key: "credits", Value: bson.A{bson.D{{Key: "campaign", Value: AllTime}, {Key: "points", Value: 10}}}}}
	}
	secondLayout := func(i int, key string) bson.D {
		w := who(i)
		js := fmt.Sprintf(`{"n":%q,"b":%q,"bn":%q,"c":%q,"cn":%q,"p":%q,"cc":%q,"cr":[[%q,10]]}`, w.Name, w.BranchID, w.BranchName,
			w.CommuneID, w.CommuneName, w.ProvinceCode, w.CommuneCode, AllTime)
		return bson.D{{Key: "_id", Value: key}, {Key: "reason", Value: ReasonSession}, {Key: "source", Value: "src" + key},
			{Key: "points", Value: 10}, {Key: "at", Value: f.now}, {Key: "volunteer", Value: w.VolunteerID}, {Key: "boards", Value: js}}
	}
	for i, key := range []string{"old:1", "old:2", "old:3"} {
		if _, err := f.ledger.coll.InsertOne(ctx, firstLayout(i+1, key)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.ledger.coll.InsertOne(ctx, secondLayout(4, "second:4")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Award(ctx, Award{Key: "new:1", Reason: ReasonSession, Who: who(1), At: f.now}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.boardSnapshot(t)
	if before["all:volunteers:national:campaign"]["v01"] != 20 || before["all:volunteers:national:campaign"]["v04"] != 10 {
		t.Fatalf("boards from the mixed ledger: %v", before["all:volunteers:national:campaign"])
	}
	if err := f.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	old := func() int64 {
		n, err := f.ledger.coll.CountDocuments(ctx, oldLayouts)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := old(); n != 4 {
		t.Fatalf("EnsureIndexes changed the entries: %d of 4 left in earlier layouts", n)
	}
	if ok, err := f.LedgerCurrent(ctx); ok || err != nil {
		t.Fatalf("a ledger with earlier layouts is current: %v, %v", ok, err)
	}
	if n, err := f.UpgradeLedger(ctx); n != 4 || err != nil {
		t.Fatalf("upgrade rewrote %d (%v), want 4", n, err)
	}
	if n := old(); n != 0 {
		t.Fatalf("%d entries left in earlier layouts", n)
	}
	if ok, err := f.LedgerCurrent(ctx); !ok || err != nil {
		t.Fatalf("the upgraded ledger is not current: %v, %v", ok, err)
	}
	if n, err := f.UpgradeLedger(ctx); n != 0 || err != nil {
		t.Fatalf("a second upgrade rewrote %d (%v)", n, err)
	}
	for _, v := range []struct {
		id     string
		i      int
		source string
	}{{"v02", 2, "srcold:2"}, {"v04", 4, "srcsecond:4"}} {
		es, err := f.ledger.of(ctx, v.id)
		if err != nil || len(es) != 1 || es[0].Source != v.source || es[0].Who != who(v.i) || es[0].Credits[0] != (Credit{AllTime, 10}) {
			t.Fatalf("a rewritten entry reads %+v (%v)", es, err)
		}
	}
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if after := f.boardSnapshot(t); !equalBoards(before, after) {
		t.Fatalf("boards after the rewrite differ: %s", diffBoards(before, after))
	}
	// An entry of the first layout written now (by an instance of an
	// earlier version) still reads.
	if _, err := f.ledger.coll.InsertOne(ctx, firstLayout(5, "old:5")); err != nil {
		t.Fatal(err)
	}
	got, err := f.ledger.getMany(ctx, []string{"old:5"})
	if err != nil || got["old:5"].Who != who(5) {
		t.Fatalf("an entry of the first layout after the rewrite: %+v (%v)", got, err)
	}
	// A damaged entry fails the rebuild instead of leaving it short, and
	// the boards written before it was read (a batch of 2,000 comes first)
	// are dropped.
	var more []any
	for i := range 2000 {
		more = append(more, toEntryDoc(Entry{ID: fmt.Sprintf("more:%d", i), Reason: ReasonSession, Points: 10, At: f.now,
			Who: who(i % 9), Credits: []Credit{{AllTime, 10}}}))
	}
	if _, err := f.ledger.coll.InsertMany(ctx, more); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "bad"}, {Key: "at", Value: f.now}, {Key: "boards", Value: "{"}}); err != nil {
		t.Fatal(err)
	}
	f.boards.streamAt = 1
	st, err := f.Rebuild(ctx)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("rebuild over a damaged entry: %v", err)
	}
	if st.Generation == "" {
		t.Fatal("the failed rebuild names no generation")
	}
	if left := f.keys(t, f.prefix+"lb:g"+st.Generation+":*"); len(left) != 0 {
		t.Fatalf("the failed rebuild left %d boards of its generation, e.g. %s", len(left), left[0])
	}
	if _, _, err := f.Top(ctx, Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodCampaign}, 10); err != nil {
		t.Fatalf("the boards before the failed rebuild: %v", err)
	}
}

// An erased volunteer's entries keep their points for the branch and
// commune, and no longer hold the volunteer's id, name or sources.
func TestErasedVolunteerLeavesNoTraceInTheLedger(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w := who(7)
	for _, key := range []string{"session:a", "session:b"} {
		if _, _, err := f.Award(ctx, Award{Key: key, Reason: ReasonSession, Source: "household-" + key, Who: w, At: f.now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.ErasePerson(ctx, "volunteer", w.VolunteerID, ""); err != nil {
		t.Fatal(err)
	}
	cur, err := f.ledger.coll.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil || len(docs) != 2 {
		t.Fatalf("%d entries (%v)", len(docs), err)
	}
	for _, d := range docs {
		s := d.String()
		if strings.Contains(s, w.VolunteerID) || strings.Contains(s, w.Name) || strings.Contains(s, "household-") {
			t.Fatalf("an erased volunteer's entry: %s", s)
		}
	}
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if pts := f.boardSnapshot(t)["all:communes:national:campaign"][w.CommuneID]; pts != 20 {
		t.Fatalf("the commune has %v points after the erasure, want 20", pts)
	}
}
