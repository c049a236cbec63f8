package gamify

import (
	"context"
	"log/slog"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
)

// awardWriter writes awards in groups (group commit): awards made at the
// same time wait together for one unordered insert of all their ledger
// entries and then one Redis pipeline for all their boards, instead of a
// round trip to each store apiece. The unique _id still decides, entry by
// entry, which award is new; the insert reports a duplicate per entry.
//
// At most maxFlushers groups are written at once, so that one group's
// board writes overlap the next group's insert; a group holds at most
// maxGroup entries. A lone award is written at once, as a group of one.
type awardWriter struct {
	coll   *mongo.Collection
	boards *boards
	log    *slog.Logger

	mu       sync.Mutex
	queue    []*pendingAward
	flushers int
}

const (
	maxGroup    = 500
	maxFlushers = 2
)

type pendingAward struct {
	e    Entry
	err  error
	done chan struct{}
}

// write records e in the ledger and on the boards, as Award describes. It
// returns store.ErrDuplicate when e's key was in the ledger already. When
// ctx ends first, the award may still be written (as a single insert cut
// off by a timeout may be).
func (w *awardWriter) write(ctx context.Context, e Entry) error {
	p := &pendingAward{e: e, done: make(chan struct{})}
	w.mu.Lock()
	w.queue = append(w.queue, p)
	if w.flushers < maxFlushers {
		w.flushers++
		// Not bound to the caller: the group carries other callers'
		// awards. The stores bound each operation by their timeout.
		go w.flush(context.WithoutCancel(ctx))
	}
	w.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return store.WrapMongo(ctx.Err())
	}
}

// flush writes groups until the queue is empty.
func (w *awardWriter) flush(ctx context.Context) {
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxGroup)
		if n == 0 {
			w.flushers--
			w.mu.Unlock()
			return
		}
		group := make([]*pendingAward, n)
		copy(group, w.queue)
		w.queue = append(w.queue[:0], w.queue[n:]...)
		w.mu.Unlock()
		w.writeGroup(ctx, group)
	}
}

func (w *awardWriter) writeGroup(ctx context.Context, group []*pendingAward) {
	defer func() {
		for _, p := range group {
			close(p.done)
		}
	}()
	docs := make([]any, len(group))
	for i, p := range group {
		docs[i] = toEntryDoc(p.e)
	}
	fresh, err := store.InsertNew(ctx, w.coll, docs)
	if err != nil {
		// Which entries the store wrote is not known, as with a single
		// insert that timed out; a retry finds those it wrote as
		// duplicates.
		for _, p := range group {
			p.err = err
		}
		return
	}
	var made []Entry
	for i, p := range group {
		if fresh[i] {
			made = append(made, p.e)
		} else {
			p.err = store.ErrDuplicate
		}
	}
	if len(made) == 0 {
		return
	}
	if err := w.boards.apply(ctx, made); err != nil {
		w.boards.markDirty()
		w.log.Warn("board update failed; boards will be rebuilt from the ledger", "entries", len(made), "err", err)
	}
}
