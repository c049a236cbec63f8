package matching

import (
	"slices"
	"sync"
	"time"

	"daisuso/geo"
)

// view is this instance's recent reading of the mentor index and of the
// capacity slots in use, kept for online matching only. Every online
// request used to read both from the store, and the requests that arrive
// together in one place all read the same mentors and then race for the
// same slot.
//
// Nothing rests on the view being right. Capacity is still kept by the
// slot documents' unique _id: a slot the view thinks free but another
// instance took is refused by the store, and the view then learns it. A
// mentor the view holds is read again by _id before a slot is taken, so a
// pause, a deletion or a changed radius or language elsewhere is seen at
// once. What the view can miss, for up to its ttl (viewTTL, slotsTTL), is
// capacity freed and mentors added by another instance; so match never
// declares a request unserved from the view: it asks the store again
// first.
//
// Slots this instance is taking right now are held in the view, so that
// requests in flight together here go to different slots, or to another
// mentor once this one is full, instead of colliding in the store.
//
// Local writes keep it honest: any mentor write empties the mentor part,
// any release of slots the slot part, except a reservation giving back the
// slots it took, which the view is told of one by one.
type view struct {
	ttl, slotsTTL time.Duration

	mu      sync.Mutex
	mEpoch  uint64 // moved on by every local mentor write
	sEpoch  uint64 // moved on by every local release of slots
	cells   map[cellKey]viewEntry[[]Mentor]
	slots   map[string]viewEntry[[]int] // mentor id -> slot indexes in use
	holding map[string][]int            // mentor id -> slots being taken here now
}

type cellKey struct {
	res  int
	cell geo.Cell
}

type viewEntry[T any] struct {
	v     T
	at    time.Time
	epoch uint64
}

// How long the view trusts what it read: mentors for viewTTL, the slots
// in use for slotsTTL. The slots part is kept longer because reading it
// is what costs (every slot in use), and what it can miss
// matters less: slots another instance took are learned the first time
// they are refused, and capacity freed elsewhere (an erasure, a release)
// is rare and always found before a request is called unserved; until
// then a request may go to a mentor farther than one just freed.
const (
	viewTTL  = 2 * time.Second
	slotsTTL = 10 * time.Second
)

// viewMax bounds each map; a full map is started afresh.
const viewMax = 200_000

func newView(ttl, slotsTTL time.Duration) *view {
	return &view{ttl: ttl, slotsTTL: slotsTTL, cells: map[cellKey]viewEntry[[]Mentor]{}, slots: map[string]viewEntry[[]int]{},
		holding: map[string][]int{}}
}

func (v *view) forgetMentors() {
	v.mu.Lock()
	v.mEpoch++
	v.mu.Unlock()
}

func (v *view) forgetSlots() {
	v.mu.Lock()
	v.sEpoch++
	v.mu.Unlock()
}

func (v *view) epochs() (m, s uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mEpoch, v.sEpoch
}

// mentorsOf returns the mentors of the cells it holds fresh, and the cells
// it does not.
func (v *view) mentorsOf(res int, cells []geo.Cell, now time.Time) (ms []Mentor, missing []geo.Cell) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range cells {
		e, ok := v.cells[cellKey{res, c}]
		if !ok || e.epoch != v.mEpoch || now.Sub(e.at) >= v.ttl {
			missing = append(missing, c)
			continue
		}
		ms = append(ms, e.v...)
	}
	return ms, missing
}

// putMentors records what a read of cells found, under the epoch taken
// before the read.
func (v *view) putMentors(res int, cells []geo.Cell, ms []Mentor, epoch uint64, now time.Time) {
	by := make(map[geo.Cell][]Mentor, len(cells))
	for _, m := range ms {
		if p, err := m.Cell.Parent(res); err == nil {
			by[p] = append(by[p], m)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if epoch != v.mEpoch {
		return
	}
	if len(v.cells)+len(cells) > viewMax {
		v.cells = map[cellKey]viewEntry[[]Mentor]{}
	}
	for _, c := range cells {
		v.cells[cellKey{res, c}] = viewEntry[[]Mentor]{v: by[c], at: now, epoch: epoch}
	}
}

// usedOf fills used for the mentors it holds fresh (with the slots being
// taken here added) and returns the ids of those it does not.
func (v *view) usedOf(ids []string, used map[string][]int, now time.Time) (missing []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		e, ok := v.slots[id]
		if !ok || e.epoch != v.sEpoch || now.Sub(e.at) >= v.slotsTTL {
			missing = append(missing, id)
			continue
		}
		used[id] = union(e.v, v.holding[id])
	}
	return missing
}

// putUsed records the slots a read found in use, under the epoch taken
// before the read, and adds the slots being taken here to used.
func (v *view) putUsed(ids []string, used map[string][]int, epoch uint64, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fresh := epoch == v.sEpoch
	if fresh && len(v.slots)+len(ids) > viewMax {
		v.slots = map[string]viewEntry[[]int]{}
	}
	for _, id := range ids {
		if fresh {
			v.slots[id] = viewEntry[[]int]{v: slices.Clone(used[id]), at: now, epoch: epoch}
		}
		used[id] = union(used[id], v.holding[id])
	}
}

// hold marks slot i of a mentor as being taken here; false if it already
// is.
func (v *view) hold(mentor string, i int) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if slices.Contains(v.holding[mentor], i) {
		return false
	}
	v.holding[mentor] = append(v.holding[mentor], i)
	return true
}

// settle ends the hold of slot i; taken says whether it is now in use (by
// this request, or by another that got it first).
func (v *view) settle(mentor string, i int, taken bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := slices.DeleteFunc(v.holding[mentor], func(x int) bool { return x == i })
	if len(h) == 0 {
		delete(v.holding, mentor)
	} else {
		v.holding[mentor] = h
	}
	if e, ok := v.slots[mentor]; ok && taken && !slices.Contains(e.v, i) {
		e.v = append(slices.Clone(e.v), i)
		v.slots[mentor] = e
	}
}

// freed records that slots idx of a mentor, which this instance held, are
// free again.
func (v *view) freed(mentor string, idx []int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.slots[mentor]; ok {
		e.v = slices.DeleteFunc(slices.Clone(e.v), func(x int) bool { return slices.Contains(idx, x) })
		v.slots[mentor] = e
	}
}

func union(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
