package gamify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// hidden keeps the volunteers who have not consented to public ranking
// (the "public_ranking" purpose): they stay in the volunteers boards, so
// their own `me` works and every rank stays what it is, but no list shows
// their row, by name or id. Their points count on the branches and
// communes boards as everyone's do.
//
// Keys, under the boards' prefix:
//
//	lb:hidden      the set of their ids
//	lb:hidden:ver  moved on by every change of the set
//
// An instance holds a copy of the set and asks for the version at most
// once per ttl (the read cache's), reading the set again only when it
// moved: a change shows on this instance's next read, on others within
// ttl, as any board write does.
type hidden struct {
	rdb      redis.UniversalClient
	key, ver string
	ttl      time.Duration

	mu      sync.Mutex
	set     map[string]struct{}
	version string
	at      time.Time
}

// change puts a volunteer in the set or takes them out.
func (h *hidden) change(ctx context.Context, id string, hide bool) error {
	p := h.rdb.Pipeline()
	if hide {
		p.SAdd(ctx, h.key, id)
	} else {
		p.SRem(ctx, h.key, id)
	}
	p.Incr(ctx, h.ver)
	_, err := p.Exec(ctx)
	h.mu.Lock()
	h.at = time.Time{} // read again next time, whatever happened
	h.mu.Unlock()
	return store.WrapRedis(err)
}

// members returns the set as of at most ttl ago. The map is shared: do
// not change it.
func (h *hidden) members(ctx context.Context) (map[string]struct{}, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.set != nil && time.Since(h.at) < h.ttl {
		return h.set, nil
	}
	ver, err := h.rdb.Get(ctx, h.ver).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, store.WrapRedis(err)
	}
	if h.set == nil || ver != h.version {
		ids, err := h.rdb.SMembers(ctx, h.key).Result()
		if err != nil {
			return nil, store.WrapRedis(err)
		}
		set := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			set[id] = struct{}{}
		}
		h.set, h.version = set, ver
	}
	h.at = time.Now()
	return h.set, nil
}

// visibleTop returns the first n rows of board key that are not hidden,
// with their ranks on the whole board: zs is its first window, of size n.
func (b *boards) visibleTop(ctx context.Context, key string, zs []redis.Z, n int, hid map[string]struct{}) ([]redis.Z, []int, error) {
	var kept []redis.Z
	var ranks []int
	start := 0
	for {
		for i, z := range zs {
			if _, ok := hid[z.Member.(string)]; !ok && len(kept) < n {
				kept, ranks = append(kept, z), append(ranks, start+i+1)
			}
		}
		if len(kept) >= n || len(zs) < n {
			return kept, ranks, nil
		}
		start += len(zs)
		var err error
		if zs, err = b.rdb.ZRevRangeWithScores(ctx, key, int64(start), int64(start+n-1)).Result(); err != nil {
			return nil, nil, store.WrapRedis(err)
		}
	}
}
