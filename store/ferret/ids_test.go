package ferret_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
	"daisuso/store/ferret"
	"daisuso/store/storetest"
)

// ferretIn starts a FerretDB of its own on SQLite in dir (the files
// IndexIDs works on) and returns it with its database "ids"; both are
// closed when the test ends.
func ferretIn(tb testing.TB, dir string, timeout time.Duration) (*ferret.Server, *mongo.Database) {
	tb.Helper()
	f, err := ferret.Start(ferret.Config{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Stop)
	client, db, err := store.OpenMongo(context.Background(), store.MongoConfig{URI: f.URI, Database: "ids", Timeout: timeout})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return f, db
}

// IndexIDs gives each collection table an index on the expression FerretDB
// looks _id up by, which SQLite then plans with; lookups and the unique _id
// still work, and a second run creates nothing.
func TestFerretIndexIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, db := ferretIn(t, dir, 2*time.Second)
	coll := db.Collection("things")
	docs := make([]any, 100)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("t%03d", i)}, {Key: "n", Value: i}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	n, err := f.IndexIDs(ctx)
	if err != nil || n != 1 {
		t.Fatalf("IndexIDs created %d (%v), want 1", n, err)
	}
	if n, err := f.IndexIDs(ctx); err != nil || n != 0 {
		t.Fatalf("second IndexIDs created %d (%v), want 0", n, err)
	}

	sq, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ids.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	var table string
	if err := sq.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'things'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	rows, err := sq.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"t050"`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if p := strings.Join(plan, "; "); !strings.Contains(p, table+"_daisuso_id") {
		t.Fatalf("FerretDB's _id lookup is planned without the index: %s", p)
	}

	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "t050"}}).Decode(&got); err != nil || got["n"] != int32(50) {
		t.Fatalf("lookup after IndexIDs: %v %v", got, err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "t050"}}); !errors.Is(store.WrapMongo(err), store.ErrDuplicate) {
		t.Fatalf("a second t050 was not refused: %v", err)
	}
}

// BenchmarkFerretIDLookup measures what the _id lookups of FerretDB 1.24
// on SQLite cost in a collection of 50,000 small documents: {_id: x} for
// the first and the last document, {_id: {$in: [500 ids]}}, and {_id: x}
// for the last once IndexIDs has run. It prints a table, also written to
// bench/results/ferret-id-lookup.md.
func BenchmarkFerretIDLookup(b *testing.B) {
	ctx := context.Background()
	f, db := ferretIn(b, b.TempDir(), 30*time.Second)
	coll := db.Collection("outcomes")
	const n = 50_000
	id := func(i int) string { return fmt.Sprintf("id-%07d", i) }
	docs := make([]any, 0, 1000)
	for i := range n {
		docs = append(docs, bson.D{{Key: "_id", Value: id(i)}, {Key: "state", Value: "sent"}, {Key: "at", Value: time.Now()}})
		if len(docs) == cap(docs) {
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	one := func(key string) time.Duration {
		const tries = 10
		start := time.Now()
		for range tries {
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Err(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start) / tries
	}
	b.ResetTimer()
	first, last := one(id(0)), one(id(n-1))
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = id(i * (n / len(ids)))
	}
	start := time.Now()
	got, err := store.FindAll[bson.M](ctx, coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil || len(got) != len(ids) {
		b.Fatalf("$in found %d (%v)", len(got), err)
	}
	in := time.Since(start)
	if _, err := f.IndexIDs(ctx); err != nil {
		b.Fatal(err)
	}
	indexed := one(id(n - 1))
	b.StopTimer()
	text := fmt.Sprintf("FerretDB 1.24 in-process (SQLite), one collection of %d small documents; mean of 10 lookups each\n\n", n) +
		"| query | time |\n| --- | --- |\n" +
		fmt.Sprintf("| {_id: x}, the first document | %v |\n", first.Round(10*time.Microsecond)) +
		fmt.Sprintf("| {_id: x}, the last document | %v |\n", last.Round(10*time.Microsecond)) +
		fmt.Sprintf("| {_id: {$in: [500 ids]}} (once) | %v |\n", in.Round(time.Millisecond)) +
		fmt.Sprintf("| {_id: x}, the last document, after IndexIDs | %v |\n", indexed.Round(10*time.Microsecond))
	storetest.WriteResult("ferret-id-lookup.md", text)
}
