package gamify

import (
	"context"
	"log/slog"

	"daisuso/store"
)

// newAwardWriter writes awards in groups (store.Grouper): awards made at
// the same time wait together for one unordered insert of all their ledger
// entries and then one Redis pipeline for all their boards, instead of a
// round trip to each store apiece. The unique _id still decides, entry by
// entry, which award is new; only new entries reach the boards.
func newAwardWriter(l *ledger, b *boards, log *slog.Logger) *store.Grouper[Entry] {
	return &store.Grouper[Entry]{Coll: l.coll, Doc: func(e Entry) any { return toEntryDoc(e) },
		After: func(ctx context.Context, made []Entry) {
			if err := b.apply(ctx, made); err != nil {
				b.markDirty()
				log.Warn("board update failed; boards will be rebuilt from the ledger", "entries", len(made), "err", err)
			}
		},
		// The store may have written some of the group (a timeout cut the
		// insert off) that no board has: the boards are rebuilt.
		Failed: func(_ context.Context, items []Entry, err error) {
			b.markDirty()
			log.Warn("ledger insert failed; boards will be rebuilt from the ledger", "entries", len(items), "err", err)
		}}
}
