package store

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Grouper inserts documents into one collection in groups (group commit):
// callers who insert at the same time wait together for one unordered
// insert of all their documents, instead of one round trip and one commit
// apiece. On FerretDB every write is a transaction of its own, so under
// load this is what bounds write throughput; on MongoDB it saves round
// trips. A duplicate _id is still reported per document (InsertNew), so
// insert-only invariants under unique keys hold as with single inserts.
// FerretDB writes a group that holds a duplicate again document by
// document, so groups gain little where duplicates are common, and one
// group cut off by a timeout fails all its callers at once: matching's
// reservations, which contend for the same keys, do not use it (see
// docs/RELIABILITY.md).
//
// At most MaxFlushers groups are written at once, so that one group's
// After overlaps the next group's insert; a group holds about MaxGroup
// documents (one call's documents are never split). A lone insert is
// written at once, as a group of one.
type Grouper[T any] struct {
	Coll *mongo.Collection
	Doc  func(T) any // the document to insert for an item
	// After, when set, runs once per group with the items whose documents
	// were new, before their callers are answered.
	After func(ctx context.Context, made []T)
	// Failed, when set, runs once per group whose insert failed: which of
	// its documents the store wrote is then not known.
	Failed func(ctx context.Context, items []T, err error)

	once    sync.Once
	batches *Batcher[*groupCall[T]]
}

// Group sizes.
const (
	MaxGroup    = 500
	MaxFlushers = 2
)

type groupCall[T any] struct {
	items []T
	fresh []bool
	err   error
	done  chan struct{}
}

// Insert inserts items' documents and reports, per item, whether its
// document was new (false: its _id was there already). Any other failure
// fails the whole group, as InsertNew does: which documents were written
// is then not known.
//
// It answers only once its group has been written, even when ctx ends
// first, so that no caller is told "failed" while its group may still
// write its document and run After. The group's insert is bounded by the
// store's own operation timeout, so a caller may wait past its deadline by
// up to that.
func (g *Grouper[T]) Insert(ctx context.Context, items ...T) ([]bool, error) {
	if len(items) == 0 {
		return nil, nil
	}
	g.once.Do(func() {
		g.batches = &Batcher[*groupCall[T]]{Send: g.write, Max: MaxGroup, Flushers: MaxFlushers,
			Weight: func(c *groupCall[T]) int { return len(c.items) }}
	})
	c := &groupCall[T]{items: items, done: make(chan struct{})}
	g.batches.Add(ctx, c)
	<-c.done
	return c.fresh, c.err
}

func (g *Grouper[T]) write(ctx context.Context, group []*groupCall[T]) {
	defer func() {
		for _, c := range group {
			close(c.done)
		}
	}()
	var docs []any
	for _, c := range group {
		for _, it := range c.items {
			docs = append(docs, g.Doc(it))
		}
	}
	fresh, err := InsertNew(ctx, g.Coll, docs)
	if err != nil {
		var items []T
		for _, c := range group {
			c.err = err
			items = append(items, c.items...)
		}
		if g.Failed != nil {
			g.Failed(ctx, items, err)
		}
		return
	}
	var made []T
	k := 0
	for _, c := range group {
		c.fresh = fresh[k : k+len(c.items)]
		for i, it := range c.items {
			if c.fresh[i] {
				made = append(made, it)
			}
		}
		k += len(c.items)
	}
	if g.After != nil && len(made) > 0 {
		g.After(ctx, made)
	}
}
