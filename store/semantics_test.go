package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

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
// update.
func TestStoreSemantics(t *testing.T) {
	ctx := context.Background()
	db := storetest.Mongo(t)

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

	t.Run("redis INCR and SET NX are atomic", func(t *testing.T) {
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
	})
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
