package gamify

import (
	"context"
	"errors"
	"slices"
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
// garbage collection slowed the reading of the ledger, whose decoding runs
// in the same process and allocates for every value it reads.
type aggregate struct {
	ids     map[string]uint32 // member -> number
	members []any             // number -> member, a string boxed once for the writes' arguments
	boards  map[boardID]*boardSums
	names   map[string]*boardNames // board kind -> names
	changed int                    // scores and names not written since they changed
	written int                    // scores written, a score each time it is

	units   map[unitKey]*unit
	lists   int             // in all units' caches
	days    map[int32]int32 // local day -> index in periods
	periods [][3]string
}

// boardSums are a board's sums, in the order their members came; at
// finds a member's, so that adding to a sum looks up one map once. A board
// that holds a large share of all members (the national ones) finds them
// in dense instead: a slice by member number costs no hashing and no
// rehashing as it grows, and its few megabytes are paid by few boards.
type boardSums struct {
	at      map[uint32]int32 // member -> index in sums; nil once dense
	dense   []int32          // member -> index in sums + 1, 0 for none
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
		units: map[unitKey]*unit{}, days: map[int32]int32{}}
}

func (a *aggregate) id(member string) uint32 {
	id, ok := a.ids[member]
	if !ok {
		id = uint32(len(a.members))
		a.ids[member] = id
		a.members = append(a.members, any(member))
	}
	return id
}

func (a *aggregate) add(e Entry) {
	u, p := a.unitOf(e.Who), a.periodsAt(e.At)
	for ti, t := range u.targets {
		id, name := u.ids[ti], t.name(e.Who)
		if t.board == BoardVolunteers {
			if e.Who.VolunteerID == "" { // erased
				continue
			}
			id = a.id(e.Who.VolunteerID)
		}
		if name != "" {
			a.name(t.board, id, name, e.At)
		}
		for _, c := range e.Credits {
			for _, bs := range a.boardsOf(u, ti, c.Campaign, p) {
				bs.add(id, len(a.members), int64(c.Points), &a.changed)
			}
		}
	}
}

// unitKey is where an entry's volunteer stood: most entries share it with
// many others, and the boards it leads to are looked up once for all.
type unitKey struct{ branch, commune, province, communeCode string }

// unit holds the targets of a unitKey, the volunteer's with no member
// (each entry names its own), the numbers of the others' members, and the
// boards of each target by campaign and periods.
type unit struct {
	targets []target
	ids     []uint32
	lists   map[listKey][]*boardSums
}

type listKey struct {
	campaign string
	periods  int32 // index in aggregate.periods
	target   int32 // index in unit.targets
}

func (a *aggregate) unitOf(w Who) *unit {
	k := unitKey{w.BranchID, w.CommuneID, w.ProvinceCode, w.CommuneCode}
	if u, ok := a.units[k]; ok {
		return u
	}
	w.VolunteerID = "-" // every unit has the volunteers' target
	u := &unit{targets: targets(w), lists: map[listKey][]*boardSums{}}
	u.ids = make([]uint32, len(u.targets))
	for i := range u.targets {
		if u.targets[i].board == BoardVolunteers {
			u.targets[i].member = ""
			continue
		}
		u.ids[i] = a.id(u.targets[i].member)
	}
	a.units[k] = u
	return u
}

// periodsAt numbers the periods of t's local day (see periodsOf), so
// that they are formatted once a day of the ledger.
func (a *aggregate) periodsAt(t time.Time) int32 {
	y, m, d := t.In(Vietnam).Date()
	day := int32(y)<<9 | int32(m)<<5 | int32(d)
	i, ok := a.days[day]
	if !ok {
		i = int32(len(a.periods))
		a.periods = append(a.periods, periodsOf(t))
		a.days[day] = i
	}
	return i
}

// boardsOf returns the boards of a unit's target's scopes in a campaign
// and periods, from the unit's cache: one lookup of it costs less than one
// of each of the twelve boards.
func (a *aggregate) boardsOf(u *unit, target int, campaign string, periods int32) []*boardSums {
	k := listKey{campaign, periods, int32(target)}
	if list, ok := u.lists[k]; ok {
		return list
	}
	t, ps := u.targets[target], a.periods[periods]
	list := make([]*boardSums, 0, len(t.scopes)*len(ps))
	for _, scope := range t.scopes {
		for _, per := range ps {
			id := boardID{campaign, t.board, scope, per}
			bs := a.boards[id]
			if bs == nil {
				bs = &boardSums{at: map[uint32]int32{}}
				a.boards[id] = bs
			}
			list = append(list, bs)
		}
	}
	if a.lists >= 100_000 { // a long ledger of many campaigns
		for _, u := range a.units {
			clear(u.lists)
		}
		a.lists = 0
	}
	u.lists[k] = list
	a.lists++
	return list
}

// denseFrom is the size from which a board holding a sixteenth of all
// members or more finds them by a dense slice: at most 64 bytes a member
// it holds, against the map's 10 to 20.
const denseFrom = 4096

// add adds points to a member's sum, counting it in changed if it was
// written as it was; members is how many members are numbered.
func (bs *boardSums) add(id uint32, members int, points int64, changed *int) {
	i := bs.index(id, members)
	s := &bs.sums[i]
	if s.written {
		s.written = false
		bs.changed = append(bs.changed, i)
		*changed++
	}
	s.points += points
}

// index finds a member's sum, making it if it has none.
func (bs *boardSums) index(id uint32, members int) int32 {
	if bs.dense != nil {
		if int(id) >= len(bs.dense) {
			n := max(int(id)+1, members)
			bs.dense = slices.Grow(bs.dense, n-len(bs.dense))[:n]
		}
		if i := bs.dense[id]; i > 0 {
			return i - 1
		}
		i := int32(len(bs.sums))
		bs.dense[id] = i + 1
		bs.sums = append(bs.sums, sum{member: id, written: true})
		return i
	}
	i, ok := bs.at[id]
	if ok {
		return i
	}
	i = int32(len(bs.sums))
	bs.at[id] = i
	bs.sums = append(bs.sums, sum{member: id, written: true})
	if len(bs.sums) >= denseFrom && 16*len(bs.sums) >= members {
		bs.dense = make([]int32, members)
		for j, s := range bs.sums {
			bs.dense[s.member] = int32(j) + 1
		}
		bs.at = nil
	}
	return i
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
			args := make([]any, 2, 2+2*len(part))
			args[0], args[1] = "zadd", key
			for _, i := range part {
				s := &bs.sums[i]
				args = append(args, s.points, a.members[s.member])
				s.written = true
			}
			a.written += len(part)
			p.Do(ctx, args...)
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
