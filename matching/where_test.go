package matching

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/store/storetest"
)

// A where with nothing set, or with a list set but empty, selects nothing:
// a delete built from an empty list of ids must not empty a collection.
func TestWhereNeverMeansEverything(t *testing.T) {
	db := storetest.Mongo(t)
	ctx := context.Background()
	coll := db.Collection("slots")
	for _, id := range []string{"m1:0", "m1:1", "m2:0"} {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "request_id", Value: "r1"}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int64 {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var none []string
	for _, w := range []where{{}, {IDs: only(none)}, {IDs: []string{}, RequestIDs: []string{"r1"}}, {Communes: only(nil), Paused: new(bool)}} {
		if _, ok := w.filter(); ok {
			t.Errorf("%+v selects something", w)
		}
		if err := deleteWhere(ctx, coll, w); err != nil || count() != 3 {
			t.Fatalf("%+v deleted: %d left (%v)", w, count(), err)
		}
	}
	got, err := findWhere[slotDoc](ctx, coll, where{IDs: []string{"m1:0", "m2:0"}, RequestIDs: []string{"r1"}})
	if err != nil || len(got) != 2 {
		t.Fatalf("two ids of r1: %v, %v", got, err)
	}
	if err := deleteWhere(ctx, coll, where{IDs: []string{"m1:1"}}); err != nil || count() != 2 {
		t.Fatalf("one id: %d left (%v)", count(), err)
	}
}

func TestWhereFilter(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f, ok := where{IDs: []string{"a"}, MentorIDs: []string{"m1", "m2"}, CreatedSince: at, CreatedBefore: at.Add(time.Hour)}.filter()
	want := bson.D{{Key: "_id", Value: "a"}, {Key: "mentor_id", Value: bson.D{{Key: "$in", Value: []string{"m1", "m2"}}}},
		{Key: "created_at", Value: bson.D{{Key: "$lt", Value: at.Add(time.Hour)}, {Key: "$gte", Value: at}}}}
	a, _ := bson.MarshalExtJSON(f, false, false)
	b, _ := bson.MarshalExtJSON(want, false, false)
	if !ok || string(a) != string(b) {
		t.Fatalf("filter %s, want %s", a, b)
	}
}
