package store

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
)

// IndexIDs gives each collection table an index on the expression FerretDB
// looks _id up by, which SQLite then plans with; lookups and the unique _id
// still work, and a second run creates nothing.
func TestFerretIndexIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := StartFerret(FerretConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	client, db, err := OpenMongo(ctx, MongoConfig{URI: f.URI, Database: "ids", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
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
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "t050"}}); !errors.Is(WrapMongo(err), ErrDuplicate) {
		t.Fatalf("a second t050 was not refused: %v", err)
	}
}
