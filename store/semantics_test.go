package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/store"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestStoreSemantics pins down what the design relies on from the stores, so
// that a store (or a FerretDB upgrade) that breaks it is caught here:
//
//   - a unique index, and _id, admit exactly one of many concurrent inserts
//     of one key (capacity slots, ledger entries, idempotency records and
//     leases are insert-only documents under unique keys);
//   - a refused insert is reported as a duplicate-key error, which
//     store.Wrap turns into store.ErrDuplicate;
//   - a delete with a filter is conditional: it removes nothing when the
//     filter no longer matches (stale idempotency records are taken over
//     this way);
//   - Vietnamese text round-trips byte for byte;
//   - Redis INCR and SET NX are atomic under concurrency (rate limits).
//
// It does not rely on concurrent updates of one document: FerretDB v1 loses
// them, so no invariant in this service is kept by $inc or a conditional
// update. The MongoDB part runs against every backend given
// (storetest.MongoBackends: the in-process FerretDB, and MONGODB_URI when
// set).
func TestStoreSemantics(t *testing.T) {
	for name, uri := range storetest.MongoBackends(t) {
		t.Run(name, func(t *testing.T) { mongoSemantics(t, storetest.MongoAt(t, uri)) })
	}
	t.Run("redis INCR and SET NX are atomic", redisSemantics)
}

func mongoSemantics(t *testing.T, db *mongo.Database) {
	ctx := context.Background()

	t.Run("unique index admits one of 60 concurrent inserts", func(t *testing.T) {
		coll := db.Collection("slots")
		if err := store.EnsureIndexes(ctx, coll, mongo.IndexModel{
			Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true),
		}); err != nil {
			t.Fatal(err)
		}
		wins, dups := concurrently(60, func(i int) error {
			_, err := coll.InsertOne(ctx, bson.D{{Key: "key", Value: "mentor-1/slot-7"}, {Key: "by", Value: i}})
			return store.WrapMongo(err)
		})
		if wins != 1 || dups != 59 {
			t.Fatalf("wins=%d duplicates=%d, want 1 and 59", wins, dups)
		}
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil || n != 1 {
			t.Fatalf("documents=%d err=%v, want 1", n, err)
		}
	})

	t.Run("_id admits one of 60 concurrent inserts", func(t *testing.T) {
		coll := db.Collection("ledger")
		wins, dups := concurrently(60, func(i int) error {
			_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "session:abc"}, {Key: "by", Value: i}})
			return store.WrapMongo(err)
		})
		if wins != 1 || dups != 59 {
			t.Fatalf("wins=%d duplicates=%d, want 1 and 59", wins, dups)
		}
	})

	t.Run("conditional delete removes nothing when the filter does not match", func(t *testing.T) {
		coll := db.Collection("leases")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "k"}, {Key: "gen", Value: 2}}); err != nil {
			t.Fatal(err)
		}
		res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "k"}, {Key: "gen", Value: 1}})
		if err != nil || res.DeletedCount != 0 {
			t.Fatalf("deleted=%v err=%v, want 0", res, err)
		}
		res, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "k"}, {Key: "gen", Value: 2}})
		if err != nil || res.DeletedCount != 1 {
			t.Fatalf("deleted=%v err=%v, want 1", res, err)
		}
	})

	t.Run("Vietnamese text round-trips", func(t *testing.T) {
		coll := db.Collection("text")
		const name = "Nguyễn Thị Hồng Nhung, Tổ công nghệ số cộng đồng xã Mường Lống"
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: name}}); err != nil {
			t.Fatal(err)
		}
		var got struct{ Name string }
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.Name != name {
			t.Fatalf("got %q, want %q", got.Name, name)
		}
	})

	t.Run("documents are found by their ids either way", func(t *testing.T) {
		coll := db.Collection("by_ids")
		for _, id := range []string{"a", "b", "c"} {
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "n", Value: len(id)}}); err != nil {
				t.Fatal(err)
			}
		}
		type doc struct {
			ID string `bson:"_id"`
		}
		found := store.BackendOf(db)
		for _, b := range []store.Backend{found, {Name: found.Name, TTL: found.TTL, IDLookups: !found.IDLookups}} {
			store.SetBackend(db.Client(), b)
			got, err := store.FindByIDs(ctx, coll, []string{"c", "a", "x"}, func(d doc) string { return d.ID })
			if err != nil || len(got) != 2 || got["a"].ID != "a" || got["c"].ID != "c" {
				t.Errorf("IDLookups %v: %v, %v", b.IDLookups, got, err)
			}
		}
		store.SetBackend(db.Client(), found)
	})

	t.Run("documents expire", func(t *testing.T) {
		coll := db.Collection("expiring")
		if err := store.EnsureExpiry(ctx, coll, "expires_at"); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		for i, at := range []time.Time{now.Add(-time.Hour), now.Add(time.Hour)} {
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "expires_at", Value: at}}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := store.SweepExpired(ctx, coll, "expires_at", now)
		if err != nil {
			t.Fatal(err)
		}
		if store.BackendOf(db).TTL {
			// The server's TTL monitor deletes it, within a minute: the
			// index is what there is to check.
			if n != 0 || !hasTTLIndex(t, coll, "expires_at") {
				t.Fatalf("swept %d where the server expires documents, or no TTL index", n)
			}
			return
		}
		if left, _ := coll.CountDocuments(ctx, bson.D{}); n != 1 || left != 1 {
			t.Fatalf("swept %d, %d left; want 1 and 1", n, left)
		}
	})
}

func hasTTLIndex(t *testing.T, coll *mongo.Collection, field string) bool {
	var idx []bson.M
	cur, err := coll.Indexes().List(context.Background())
	if err == nil {
		err = cur.All(context.Background(), &idx)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range idx {
		if key, _ := ix["key"].(bson.M); key[field] != nil && ix["expireAfterSeconds"] != nil {
			return true
		}
	}
	return false
}

// TestBackendIsFound: OpenMongo asks the server what it is; the
// in-process FerretDB reads best by _id and has no TTL indexes, and a
// client the store did not open is taken for MongoDB.
func TestBackendIsFound(t *testing.T) {
	b := store.BackendOf(storetest.MongoAt(t, storetest.EmbeddedURI(t)))
	if !strings.HasPrefix(b.Name, "FerretDB") || !b.IDLookups || b.TTL {
		t.Fatalf("the embedded FerretDB: %+v", b)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(storetest.EmbeddedURI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	if b := store.BackendOf(client.Database("x")); b.Name != "MongoDB" || !b.TTL || b.IDLookups {
		t.Fatalf("a client the store did not open: %+v", b)
	}
}

func redisSemantics(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := storetest.Redis(t)
	var wg sync.WaitGroup
	var setWins atomic.Int32
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb.Incr(ctx, prefix+"counter")
			if ok, _ := rdb.SetNX(ctx, prefix+"lease", "x", 0).Result(); ok {
				setWins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n, err := rdb.Get(ctx, prefix+"counter").Int(); err != nil || n != 100 {
		t.Fatalf("counter=%d err=%v, want 100", n, err)
	}
	if setWins.Load() != 1 {
		t.Fatalf("SET NX won %d times, want 1", setWins.Load())
	}
}

// concurrently runs f n times at once and counts successes and duplicate-key
// refusals; any other error fails the count by landing in neither.
func concurrently(n int, f func(i int) error) (wins, dups int) {
	var w, d atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			switch err := f(i); {
			case err == nil:
				w.Add(1)
			case errors.Is(err, store.ErrDuplicate):
				d.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return int(w.Load()), int(d.Load())
}
