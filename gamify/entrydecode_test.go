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
		fast := checkDecoderAgrees(t, raw)
		// What toEntryDoc writes is read the fast way, except a boards
		// string that JSON had to escape.
		if want := i != 2; fast != want {
			t.Errorf("entry %d: decoded the fast way %v, want %v", i, fast, want)
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
	for _, c := range []struct {
		name string
		doc  bson.D
	}{
		{"points as a double", bson.D{{Key: "_id", Value: "k"}, {Key: "points", Value: 3.0}, {Key: "boards", Value: `{"cr":[]}`}}},
		{"spaces in boards", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"cr": []}`}}},
		{"an unknown field", bson.D{{Key: "_id", Value: "k"}, {Key: "x", Value: 1}, {Key: "boards", Value: `{"cr":[]}`}}},
		{"a key twice", bson.D{{Key: "_id", Value: "k"}, {Key: "_id", Value: "l"}, {Key: "boards", Value: `{"cr":[]}`}}},
		{"a fraction", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"cr":[["a",1.5]]}`}}},
		{"no credits", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"n":"a"}`}}},
		{"no boards", bson.D{{Key: "_id", Value: "k"}}},
		{"a leading zero", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"cr":[["a",01]]}`}}},
		{"too large", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"cr":[["a",9007199254740993]]}`}}},
		{"a trailing comma", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: `{"cr":[],}`}}},
		{"bytes that are not UTF-8", bson.D{{Key: "_id", Value: "k"}, {Key: "boards", Value: "{\"n\":\"\xff\",\"cr\":[]}"}}},
	} {
		raw, err := bson.Marshal(c.doc)
		if err != nil {
			t.Fatal(err)
		}
		if checkDecoderAgrees(t, raw) {
			t.Errorf("%s: decoded the fast way", c.name)
		}
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

// FuzzEntryDecoderFields builds entries from any field values and any
// boards string.
func FuzzEntryDecoderFields(f *testing.F) {
	for _, e := range decoderSeeds() {
		d := toEntryDoc(e)
		f.Add(d.ID, d.Reason, d.Source, int64(d.Points), d.At.UnixMilli(), d.Volunteer, d.Boards, d.Points < math.MaxInt32)
	}
	f.Fuzz(func(t *testing.T, id, reason, source string, points, atMs int64, volunteer, boards string, small bool) {
		var p any = points
		if small {
			p = int32(points)
		}
		raw, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "reason", Value: reason}, {Key: "source", Value: source},
			{Key: "points", Value: p}, {Key: "at", Value: bson.DateTime(atMs)}, {Key: "volunteer", Value: volunteer},
			{Key: "boards", Value: boards}})
		if err != nil {
			return // keys with NUL and the like
		}
		checkDecoderAgrees(t, raw)
	})
}
