package gamify

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// boardID is a board apart from its generation.
type boardID struct{ campaign, board, scope, period string }

// aggregate adds up entries into every board's scores and keeps each
// member's latest name, for a rebuild or a load. It knows what changed
// since it was last written, so that a rebuild writes the boards while it
// still reads the ledger (writeChanged): a member's sum is written whole
// (ZADD), and again when it changed since, so the last write of each is
// its total.
//
// Members are numbered, so that the maps of scores hold no pointers: a
// million volunteers make twelve million scores, and marking them at every
// garbage collection slowed FerretDB's reading of the ledger, which runs
// in the same process and allocates for every value it reads.
type aggregate struct {
	ids     map[string]uint32 // member -> number
	members []string          // number -> member
	boards  map[boardID]*boardSums
	names   map[string]*boardNames // board kind -> names
	changed int                    // scores and names not written since they changed
}

type boardSums struct {
	scores  map[uint32]sum
	changed []uint32 // members whose sum is not written
	written bool     // written to before (its expiry is set)
}

type sum struct {
	points  int64
	written bool // as it is
}

type boardNames struct {
	names   map[uint32]nameAt
	changed []uint32
}

type nameAt struct {
	name    string
	at      time.Time
	written bool
}

func newAggregate() *aggregate {
	return &aggregate{ids: map[string]uint32{}, boards: map[boardID]*boardSums{}, names: map[string]*boardNames{}}
}

func (a *aggregate) id(member string) uint32 {
	id, ok := a.ids[member]
	if !ok {
		id = uint32(len(a.members))
		a.ids[member] = id
		a.members = append(a.members, member)
	}
	return id
}

func (a *aggregate) add(e Entry) {
	periods := periodsOf(e.At)
	for _, t := range targets(e.Who) {
		id := a.id(t.member)
		if name := t.name(e.Who); name != "" {
			a.name(t.board, id, name, e.At)
		}
		for _, c := range e.Credits {
			for _, scope := range t.scopes {
				for _, per := range periods {
					a.score(boardID{c.Campaign, t.board, scope, per}, id, int64(c.Points))
				}
			}
		}
	}
}

func (a *aggregate) score(k boardID, id uint32, points int64) {
	bs := a.boards[k]
	if bs == nil {
		bs = &boardSums{scores: map[uint32]sum{}}
		a.boards[k] = bs
	}
	s, ok := bs.scores[id]
	if !ok || s.written {
		bs.changed = append(bs.changed, id)
		a.changed++
	}
	bs.scores[id] = sum{points: s.points + points}
}

// name keeps the name of the member's latest entry.
func (a *aggregate) name(board string, id uint32, name string, at time.Time) {
	bn := a.names[board]
	if bn == nil {
		bn = &boardNames{names: map[uint32]nameAt{}}
		a.names[board] = bn
	}
	old, ok := bn.names[id]
	switch {
	case ok && at.Before(old.at):
		return
	case ok && old.name == name:
		bn.names[id] = nameAt{name, at, old.written}
		return
	case !ok || old.written:
		bn.changed = append(bn.changed, id)
		a.changed++
	}
	bn.names[id] = nameAt{name: name, at: at}
}

// writeChanged queues what changed since the last write for generation
// gen, in pipelines of up to 64 commands of up to 1,000 members, hands
// each to put in order, and counts it as written.
func (a *aggregate) writeChanged(ctx context.Context, b *boards, gen string, put func(redis.Pipeliner) error) error {
	const chunk, perPipe = 1000, 64
	p, queued := b.rdb.Pipeline(), 0
	next := func(force bool) error {
		if queued == 0 || (!force && queued < perPipe) {
			return nil
		}
		err := put(p)
		p, queued = b.rdb.Pipeline(), 0
		return err
	}
	for k, bs := range a.boards {
		if len(bs.changed) == 0 {
			continue
		}
		key := b.boardKey(gen, k.campaign, k.board, k.scope, k.period)
		for part := range chunks(bs.changed, chunk) {
			zs := make([]redis.Z, len(part))
			for i, id := range part {
				s := bs.scores[id]
				zs[i] = redis.Z{Score: float64(s.points), Member: a.members[id]}
				bs.scores[id] = sum{points: s.points, written: true}
			}
			p.ZAdd(ctx, key, zs...)
			queued++
			if err := next(false); err != nil {
				return err
			}
		}
		bs.changed = bs.changed[:0]
		if !bs.written {
			bs.written = true
			if end, ok := periodEnd(k.period); ok {
				p.ExpireAt(ctx, key, end.Add(datedKeep))
				queued++
			}
		}
	}
	for board, bn := range a.names {
		key := b.key("names", board)
		for part := range chunks(bn.changed, chunk) {
			args := make([]any, 0, 2*len(part))
			for _, id := range part {
				n := bn.names[id]
				args = append(args, a.members[id], n.name)
				bn.names[id] = nameAt{n.name, n.at, true}
			}
			p.HSet(ctx, key, args...)
			queued++
			if err := next(false); err != nil {
				return err
			}
		}
		bn.changed = bn.changed[:0]
	}
	a.changed = 0
	return next(true)
}

// chunks yields s in parts of up to n.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// errWriterFailed: a pipeline before failed; close says how.
var errWriterFailed = errors.New("gamify: a board write failed")

// boardWriter executes pipelines one after the other in the order given,
// in a goroutine of its own, so that a rebuild adds up the next entries
// while Redis takes the writes of the last ones, and a later write of a
// member's sum always lands after an earlier one.
type boardWriter struct {
	pipes  chan redis.Pipeliner
	done   chan struct{}
	err    error // read after done
	failed atomic.Bool
}

func startWriter(ctx context.Context) *boardWriter {
	w := &boardWriter{pipes: make(chan redis.Pipeliner, 16), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for p := range w.pipes {
			if w.err != nil {
				continue
			}
			if _, err := p.Exec(ctx); err != nil {
				w.err = store.WrapRedis(err)
				w.failed.Store(true)
			}
		}
	}()
	return w
}

func (w *boardWriter) put(p redis.Pipeliner) error {
	if w.failed.Load() {
		return errWriterFailed
	}
	w.pipes <- p
	return nil
}

// close waits for the pipelines given and returns the first error.
func (w *boardWriter) close() error {
	close(w.pipes)
	<-w.done
	return w.err
}

// write puts all of an aggregate not yet written into generation gen and
// returns the number of boards.
func (b *boards) write(ctx context.Context, gen string, agg *aggregate) (int, error) {
	defer b.cache.invalidate()
	w := startWriter(ctx)
	err := agg.writeChanged(ctx, b, gen, w.put)
	if cerr := w.close(); cerr != nil {
		err = cerr
	}
	return len(agg.boards), err
}
