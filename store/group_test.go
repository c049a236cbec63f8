package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/store"
	"daisuso/store/storetest"
)

type groupDoc struct {
	ID string `bson:"_id"`
}

// TestGrouperReportsEachDocument: callers inserting at once share groups,
// yet each learns which of its own documents were new; a duplicate within
// a group, or of a document written before, is refused exactly once per
// key; After sees only new documents, each once.
func TestGrouperReportsEachDocument(t *testing.T) {
	ctx := context.Background()
	coll := storetest.Mongo(t).Collection("grouped")
	var mu sync.Mutex
	var after []string
	g := &store.Grouper[string]{Coll: coll, Doc: func(id string) any { return groupDoc{ID: id} },
		After: func(_ context.Context, made []string) {
			mu.Lock()
			after = append(after, made...)
			mu.Unlock()
		}}
	if fresh, err := g.Insert(ctx, "old"); err != nil || !slices.Equal(fresh, []bool{true}) {
		t.Fatal(fresh, err)
	}
	// One call's documents go in one group, so the repeat of "a" within
	// it is the one refused.
	fresh, err := g.Insert(ctx, "a", "b", "a", "old")
	if err != nil || !slices.Equal(fresh, []bool{true, true, false, false}) {
		t.Fatalf("one call: %v %v", fresh, err)
	}
	// 40 callers at once, two per key: exactly one of each pair wins.
	wins := make([]int, 20)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('A' + i%20))
			fresh, err := g.Insert(ctx, key)
			if err != nil {
				t.Error(err)
				return
			}
			if fresh[0] {
				mu.Lock()
				wins[i%20]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for k, w := range wins {
		if w != 1 {
			t.Errorf("key %c won %d times", 'A'+k, w)
		}
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil || n != 23 {
		t.Fatalf("%d documents (%v), want 23", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(after)
	if len(after) != 23 || len(slices.Compact(slices.Clone(after))) != 23 {
		t.Fatalf("After saw %v", after)
	}
}

// badDoc cannot be written by any engine: the driver has no encoding for
// a channel, so the whole insert fails before it is sent. (A "$" field name,
// used before, is refused by FerretDB and accepted by MongoDB 5 and later.)
type badDoc struct {
	ID  string   `bson:"_id"`
	Bad chan int `bson:"bad"`
}

// TestGrouperFailsTheWholeGroup: an insert that fails for another reason
// than a duplicate fails every caller of its group, and Failed is told of
// all their items.
func TestGrouperFailsTheWholeGroup(t *testing.T) {
	ctx := context.Background()
	coll := storetest.Mongo(t).Collection("grouped")
	var failed []string
	g := &store.Grouper[string]{Coll: coll, Doc: func(id string) any {
		if id == "bad" {
			return badDoc{ID: id}
		}
		return groupDoc{ID: id}
	}, Failed: func(_ context.Context, items []string, _ error) { failed = append(failed, items...) }}
	fresh, err := g.Insert(ctx, "a", "bad")
	if err == nil {
		t.Fatalf("a document that cannot be encoded was accepted: %v", fresh)
	}
	if !slices.Equal(failed, []string{"a", "bad"}) {
		t.Fatalf("Failed saw %v", failed)
	}
}
