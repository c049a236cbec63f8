package gamify

import (
	"context"
	"encoding/binary"
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

	lists map[string][]*boardSums // see boardsOf
	key   []byte
}

// boardSums are a board's sums, in the order their members came; at
// finds a member's, so that adding to a sum looks up one map once.
type boardSums struct {
	at      map[uint32]int32 // member -> index in sums
	sums    []sum
	changed []int32 // indexes in sums of those not written
	written bool    // written to before (its expiry is set)
}

type sum struct {
	member  uint32
	written bool // as it is
	points  int64
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
	return &aggregate{ids: map[string]uint32{}, boards: map[boardID]*boardSums{}, names: map[string]*boardNames{},
		lists: map[string][]*boardSums{}}
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
			for _, bs := range a.boardsOf(c.Campaign, t, periods) {
				bs.add(id, int64(c.Points), &a.changed)
			}
		}
	}
}

// boardsOf returns the boards of a target's scopes and periods in a
// campaign, from a cache under one key: most entries share their unit and
// dates with others, and one lookup of it costs less than one of each of
// the twelve boards.
func (a *aggregate) boardsOf(campaign string, t target, periods [3]string) []*boardSums {
	part := func(k []byte, s string) []byte { return append(binary.AppendUvarint(k, uint64(len(s))), s...) }
	k := part(part(a.key[:0], campaign), t.board)
	for _, s := range t.scopes {
		k = part(k, s)
	}
	for _, p := range periods {
		k = part(k, p)
	}
	a.key = k
	if list, ok := a.lists[string(k)]; ok {
		return list
	}
	list := make([]*boardSums, 0, len(t.scopes)*len(periods))
	for _, scope := range t.scopes {
		for _, per := range periods {
			id := boardID{campaign, t.board, scope, per}
			bs := a.boards[id]
			if bs == nil {
				bs = &boardSums{at: map[uint32]int32{}}
				a.boards[id] = bs
			}
			list = append(list, bs)
		}
	}
	if len(a.lists) >= 100_000 {
		clear(a.lists)
	}
	a.lists[string(k)] = list
	return list
}

// add adds points to a member's sum, counting it in changed if it was
// written as it was.
func (bs *boardSums) add(id uint32, points int64, changed *int) {
	i, ok := bs.at[id]
	if !ok {
		i = int32(len(bs.sums))
		bs.at[id] = i
		bs.sums = append(bs.sums, sum{member: id, written: true})
	}
	s := &bs.sums[i]
	if s.written {
		s.written = false
		bs.changed = append(bs.changed, i)
		*changed++
	}
	s.points += points
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
			for j, i := range part {
				s := &bs.sums[i]
				zs[j] = redis.Z{Score: float64(s.points), Member: a.members[s.member]}
				s.written = true
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
	w := &boardWriter{pipes: make(chan redis.Pipeliner, 64), done: make(chan struct{})}
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
