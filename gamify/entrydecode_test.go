package gamify

import (
	"math"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func decoderSeeds() []Entry {
	at := time.Date(2026, 10, 10, 3, 4, 5, 6_000_000, time.UTC)
	who := Who{VolunteerID: "v1", Name: "Nguyễn Thị Lan", BranchID: "b1", BranchName: "Chi đoàn Bản Lướt", CommuneID: "c1",
		CommuneName: "Xã Tả Van", ProvinceCode: "10", CommuneCode: "02701"}
	odd := who
	odd.Name = `Lan "Bé" <Ka> & \ nhỏ` + "\t"
	return []Entry{
		{ID: "session:s1:v1", Reason: ReasonSession, Source: "s1", Points: 10, At: at, Who: who,
			Credits: []Credit{{Campaign: "all", Points: 10}, {Campaign: "cp_x", Points: 20}}},
		{ID: "k2", Reason: ReasonFamily, Points: 20, At: at, Who: Who{}, Credits: nil},                  // erased, no credits
		{ID: "k3", Reason: ReasonOutcome, Points: -5, At: at, Who: odd, Credits: []Credit{{"all", -5}}}, // escapes
		{ID: "k4", Reason: ReasonSession, Points: 1 << 40, At: time.UnixMilli(-1_234_567).UTC(), Who: who,
			Credits: []Credit{{"all", 1 << 53}, {"c", 0}}},
	}
}

func entryBSON(t testing.TB, e Entry) []byte {
	raw, err := bson.Marshal(toEntryDoc(e))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkDecoderAgrees fails when the fast decoding takes raw and the
// general one decodes it otherwise or refuses it.
func checkDecoderAgrees(t *testing.T, raw []byte) (fast bool) {
	t.Helper()
	var dec entryDecoder
	got, ok := dec.decode(raw)
	if !ok {
		return false
	}
	want, err := decodeEntry(raw)
	if err != nil {
		t.Fatalf("decoded fast as %+v; the general decoding says %v", got, err)
	}
	if !got.At.Equal(want.At) {
		t.Fatalf("at %v, want %v", got.At, want.At)
	}
	got.At, want.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded fast as\n%#v\nthe general decoding gives\n%#v", got, want)
	}
	return true
}

func TestEntryDecoder(t *testing.T) {
	seeds := decoderSeeds()
	var docs []bson.Raw
	for i, e := range seeds {
		raw := entryBSON(t, e)
		docs = append(docs, raw)
		// What toEntryDoc writes is read the fast way.
		if !checkDecoderAgrees(t, raw) {
			t.Errorf("entry %d: not decoded the fast way", i)
		}
	}
	var dec entryDecoder
	got, err := dec.entries(docs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range seeds {
		g := got[i]
		if !g.At.Equal(e.At) {
			t.Errorf("entry %d: at %v, want %v", i, g.At, e.At)
		}
		g.At, e.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, e) {
			t.Errorf("entry %d:\n%#v\nwant\n%#v", i, g, e)
		}
	}

	// What the fast way refuses and the general way reads or refuses.
	first, err := bson.Marshal(bson.D{{Key: "_id", Value: "k"}, {Key: "points", Value: 3},
		{Key: "who", Value: bson.D{{Key: "volunteer_id", Value: "v"}}}, {Key: "credits", Value: bson.A{}}})
	if err != nil {
		t.Fatal(err)
	}
	credit := func(c any, p any) bson.D { return bson.D{{Key: "campaign", Value: c}, {Key: "points", Value: p}} }
	boards := func(extra ...bson.E) bson.D {
		return append(bson.D{{Key: "name", Value: "Lan"}, {Key: "credits", Value: bson.A{credit("all", 10)}}}, extra...)
	}
	for _, c := range []struct {
		name string
		doc  bson.D
	}{
		{"points as a double", bson.D{{Key: "_id", Value: "k"}, {Key: "points", Value: 3.0}, {Key: "boards", Value: boards()}}},
		{"an unknown field", bson.D{{Key: "_id", Value: "k"}, {Key: "x", Value: 1}, {Key: "boards", Value: boards()}}},
		{"a key twice", bson.D{{Key: "_id", Value: "k"}, {Key: "_id", Value: "l"}, {Key: "boards", Value: boards()}}},
		{"a boards key twice", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: boards(bson.E{Key: "name", Value: "Hà"})}}},
		{"an unknown boards key", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: boards(bson.E{Key: "x", Value: "y"})}}},
		{"a number for a name", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{{Key: "name", Value: 5},
			{Key: "credits", Value: bson.A{}}}}}},
		{"credit points as a double", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{
			{Key: "credits", Value: bson.A{credit("a", 1.5)}}}}}},
		{"a credit without points", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{
			{Key: "credits", Value: bson.A{bson.D{{Key: "campaign", Value: "a"}}}}}}}},
		{"a credit as a pair", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{
			{Key: "credits", Value: bson.A{bson.A{"a", 1}}}}}}},
		{"no credits", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{{Key: "name", Value: "a"}}}}},
		{"no boards", bson.D{{Key: "_id", Value: "k"}}},
		{"the second layout's string", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"n":"a","cr":[["all",1]]}`}}},
		{"bytes that are not UTF-8", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: bson.D{{Key: "name", Value: "\xff"},
			{Key: "credits", Value: bson.A{}}}}}},
	} {
		raw, err := bson.Marshal(c.doc)
		if err != nil {
			t.Fatal(err)
		}
		if checkDecoderAgrees(t, raw) {
			t.Errorf("%s: decoded the fast way", c.name)
		}
	}
	second, err := bson.Marshal(bson.D{{Key: "_id", Value: "k"}, {Key: "volunteer", Value: "v"},
		{Key: "boards", Value: `{"n":"Lan","cr":[["all",10]]}`}})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := decodeEntry(second); err != nil || e.Who.Name != "Lan" || e.Who.VolunteerID != "v" || len(e.Credits) != 1 || e.Credits[0] != (Credit{"all", 10}) {
		t.Errorf("the second layout: %+v, %v", e, err)
	}
	if checkDecoderAgrees(t, first) {
		t.Error("the first layout decoded the fast way")
	}
	if _, err := decodeEntry(first); err != nil {
		t.Errorf("the first layout: %v", err)
	}
}

// FuzzEntryDecoderAgrees mutates stored entries byte by byte: the fast
// decoding must never panic, and whatever it takes the general decoding
// must read the same.
func FuzzEntryDecoderAgrees(f *testing.F) {
	for _, e := range decoderSeeds() {
		f.Add(entryBSON(f, e))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecoderAgrees(t, raw)
	})
}

// FuzzEntryDecoderFields builds entries from any field values.
func FuzzEntryDecoderFields(f *testing.F) {
	for _, e := range decoderSeeds() {
		c := Credit{Campaign: "all"}
		if len(e.Credits) > 0 {
			c = e.Credits[0]
		}
		f.Add(e.ID, e.Reason, e.Source, int64(e.Points), e.At.UnixMilli(), e.Who.VolunteerID, e.Who.Name, c.Campaign, int64(c.Points), e.Points < math.MaxInt32)
	}
	f.Fuzz(func(t *testing.T, id, reason, source string, points, atMs int64, volunteer, name, campaign string, credit int64, small bool) {
		var p, cp any = points, credit
		if small {
			p, cp = int32(points), int32(credit)
		}
		raw, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "reason", Value: reason}, {Key: "source", Value: source},
			{Key: "points", Value: p}, {Key: "at", Value: bson.DateTime(atMs)}, {Key: "volunteer", Value: volunteer},
			{Key: "boards", Value: bson.D{{Key: "name", Value: name},
				{Key: "credits", Value: bson.A{bson.D{{Key: "campaign", Value: campaign}, {Key: "points", Value: cp}}}}}}})
		if err != nil {
			return // keys with NUL and the like
		}
		checkDecoderAgrees(t, raw)
	})
}
