package gamify

import (
	"sync"
	"sync/atomic"
	"time"
)

// readCache keeps what this instance read from the boards for a short
// while (ttl: Config.ReadCacheTTL, a second by default): the top rows of
// each board and the display names of members. A board everyone opens at once (the national top 10 on
// campaign day) is then read from Redis about once a second per instance,
// not once a request, and a `me` needs one round trip, not two, for names
// it has seen. Any board write by this instance (an award, a rebuild, an
// erasure) empties it, so an instance always reads its own writes; another
// instance's writes show within ttl.
type readCache struct {
	ttl   time.Duration
	epoch atomic.Uint64 // moved on by every local write

	mu    sync.Mutex
	tops  map[topKey]cached[[]Row]
	names map[nameKey]cached[string]
}

type topKey struct {
	key string // the board's Redis key, which names its generation
	n   int
}

type nameKey struct{ board, member string }

type cached[T any] struct {
	v     T
	at    time.Time
	epoch uint64
}

// readCacheMax bounds each map; a full map is started afresh.
const readCacheMax = 100_000

func (c *readCache) fresh(at time.Time, epoch uint64, now time.Time) bool {
	return epoch == c.epoch.Load() && now.Sub(at) < c.ttl
}

// invalidate forgets everything read before now.
func (c *readCache) invalidate() { c.epoch.Add(1) }

// snapshot is the epoch to store a read under, taken before the read, so
// that a write during the read makes its result stale at once.
func (c *readCache) snapshot() uint64 { return c.epoch.Load() }

func (c *readCache) top(key string, n int) ([]Row, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.tops[topKey{key, n}]
	c.mu.Unlock()
	if !ok || !c.fresh(e.at, e.epoch, time.Now()) {
		return nil, false
	}
	return append([]Row(nil), e.v...), true
}

func (c *readCache) putTop(key string, n int, rows []Row, epoch uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if c.tops == nil || len(c.tops) >= readCacheMax {
		c.tops = map[topKey]cached[[]Row]{}
	}
	c.tops[topKey{key, n}] = cached[[]Row]{v: append([]Row(nil), rows...), at: time.Now(), epoch: epoch}
	c.mu.Unlock()
}

// namesOf fills names[i] for the members it holds and returns the indexes
// of those it does not.
func (c *readCache) namesOf(board string, ids, names []string) (missing []int) {
	if c.ttl <= 0 {
		missing = make([]int, len(ids))
		for i := range ids {
			missing[i] = i
		}
		return missing
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, id := range ids {
		if e, ok := c.names[nameKey{board, id}]; ok && c.fresh(e.at, e.epoch, now) {
			names[i] = e.v
		} else {
			missing = append(missing, i)
		}
	}
	return missing
}

func (c *readCache) putNames(board string, ids, names []string, epoch uint64) {
	if c.ttl <= 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil || len(c.names)+len(ids) > readCacheMax {
		c.names = map[nameKey]cached[string]{}
	}
	for i, id := range ids {
		c.names[nameKey{board, id}] = cached[string]{v: names[i], at: now, epoch: epoch}
	}
}
