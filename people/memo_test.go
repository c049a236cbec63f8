package people

import (
	"context"
	"testing"
	"time"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store/storetest"
)

// TestRememberReads: under RememberReads a record is read from the store
// once however often it is asked for, a write through the package is seen
// by the next read, and without the memo every read goes to the store.
func TestRememberReads(t *testing.T) {
	ctx := context.Background()
	s := New(Config{DB: storetest.Mongo(t)})
	cell, err := geo.CellOf(geo.Point{Lat: 22.53, Lng: 103.76})
	if err != nil {
		t.Fatal(err)
	}
	v := Volunteer{ID: "vol-lan", Name: "Nguyễn Thị Lan", Phone: "+84981234567", Cell: cell, RadiusKm: 2, Capacity: 5,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.volunteers.insert(ctx, v); err != nil {
		t.Fatal(err)
	}
	reads := func() int { return storetest.Commands("find", "volunteers {_id}") }

	storetest.ResetCommands()
	m := RememberReads(ctx)
	if _, err := s.VolunteerRecord(m, v.ID); err != nil {
		t.Fatal(err)
	}
	first, masked, err := s.MentorCard(m, v.ID)
	if err != nil || first != "Lan" || masked == "" {
		t.Fatalf("mentor card %q %q %v", first, masked, err)
	}
	if n := reads(); n != 1 {
		t.Fatalf("%d reads of the volunteer under the memo, want 1", n)
	}

	v.Name = "Nguyễn Thị Mai"
	if err := s.volunteers.replace(m, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.VolunteerRecord(m, v.ID); err != nil || got.Name != v.Name {
		t.Fatalf("after a write under the memo: %q %v, want %q", got.Name, err, v.Name)
	}

	storetest.ResetCommands()
	for range 2 {
		if _, err := s.VolunteerRecord(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads(); n != 2 {
		t.Fatalf("%d reads without a memo, want 2", n)
	}
	if _, err := s.VolunteerRecord(RememberReads(ctx), "vol-nobody"); err != errs.ErrNotFound {
		t.Fatalf("unknown volunteer: %v", err)
	}
}
