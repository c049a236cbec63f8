package notify

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// queue is the Redis side: what is due when, the leases, the device
// directory and the daily caps. It is derived from MongoDB and rebuilt from
// it when Redis comes back empty.
//
// The queue's keys share the hash tag {notify}, so that the claim script,
// which touches three of them, runs on Redis Cluster; one slot is enough,
// as FCM itself takes at most 600,000 messages a minute per project. Device
// and cap keys are per user and spread over the cluster.
type queue struct {
	rdb    redis.UniversalClient
	prefix string
}

func (q *queue) key(name string) string       { return q.prefix + "{notify}:" + name }
func (q *queue) deviceKey(user string) string { return q.prefix + "dev:" + user }
func (q *queue) capKey(user, day string) string {
	return q.prefix + "cap:" + user + ":" + day
}

// readyKey marks a queue loaded from MongoDB; devReadyKey a device
// directory loaded from MongoDB. Redis losing its data loses them too.
// Both carry the queue's hash tag, so one EXISTS reads them on a cluster.
func (q *queue) readyKey() string    { return q.key("ready") }
func (q *queue) devReadyKey() string { return q.key("devready") }

func ms(t time.Time) float64 { return float64(t.UnixMilli()) }

// add puts notifications in the queue unless they are there (a lease or a
// retry time is not reset).
func (q *queue) add(ctx context.Context, docs []notifDoc, at func(notifDoc) time.Time) error {
	for len(docs) > 0 {
		chunk := docs[:min(len(docs), 1000)]
		docs = docs[len(chunk):]
		_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, d := range chunk {
				env, err := json.Marshal(d)
				if err != nil {
					return err
				}
				p.HSetNX(ctx, q.key("env"), d.ID, env)
				p.ZAddNX(ctx, q.key("due"), redis.Z{Score: ms(at(d)), Member: d.ID})
			}
			return nil
		})
		if err != nil {
			return store.WrapRedis(err)
		}
	}
	return nil
}

// claimScript takes up to ARGV[2] notifications due by ARGV[1] (ms) and
// leases them until ARGV[3]: their score moves to the lease's end, so a
// worker that dies leaves them to be claimed again then. It returns, per
// notification, its id, how many times it has been claimed and its
// envelope.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[3], id)
  out[#out+1] = id
  out[#out+1] = redis.call('HINCRBY', KEYS[3], id, 1)
  out[#out+1] = redis.call('HGET', KEYS[2], id)
end
return out
`)

type claimed struct {
	id     string
	claims int
	doc    *notifDoc // nil when the envelope is missing
}

func (q *queue) claim(ctx context.Context, now time.Time, n int, until time.Time) ([]claimed, error) {
	res, err := claimScript.Run(ctx, q.rdb, []string{q.key("due"), q.key("env"), q.key("claims")},
		now.UnixMilli(), n, until.UnixMilli()).Slice()
	if err != nil {
		return nil, store.WrapRedis(err)
	}
	out := make([]claimed, 0, len(res)/3)
	for i := 0; i+2 < len(res); i += 3 {
		c := claimed{}
		c.id, _ = res[i].(string)
		if k, ok := res[i+1].(int64); ok {
			c.claims = int(k)
		}
		if s, ok := res[i+2].(string); ok {
			var d notifDoc
			if json.Unmarshal([]byte(s), &d) == nil {
				c.doc = &d
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// renewScript moves the lease of each notification of ARGV[3...] still
// held under the lease ending at ARGV[1] (its score) to end at ARGV[2].
// One recorded, moved to a retry or claimed by another worker since has
// another score (or none) and keeps it. It returns how many it renewed.
var renewScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    n = n + 1
  end
end
return n
`)

// renew moves the lease of the notifications ids still claimed until from
// to end at until.
func (q *queue) renew(ctx context.Context, ids []string, from, until time.Time) (int, error) {
	args := make([]any, 0, len(ids)+2)
	args = append(args, from.UnixMilli(), until.UnixMilli())
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := renewScript.Run(ctx, q.rdb, []string{q.key("due")}, args...).Int()
	return n, store.WrapRedis(err)
}

// done removes notifications whose outcome is recorded.
func (q *queue) done(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, q.key("due"), members...)
		p.HDel(ctx, q.key("env"), ids...)
		p.HDel(ctx, q.key("claims"), ids...)
		return nil
	})
	return store.WrapRedis(err)
}

// retry moves claimed notifications to their next attempt's time.
func (q *queue) retry(ctx context.Context, at map[string]time.Time) error {
	if len(at) == 0 {
		return nil
	}
	zs := make([]redis.Z, 0, len(at))
	for id, t := range at {
		zs = append(zs, redis.Z{Score: ms(t), Member: id})
	}
	return store.WrapRedis(q.rdb.ZAddXX(ctx, q.key("due"), zs...).Err())
}

// ready reports whether both the queue and the device directory have been
// loaded from MongoDB since Redis last started empty.
func (q *queue) ready(ctx context.Context) (bool, error) {
	n, err := q.rdb.Exists(ctx, q.readyKey(), q.devReadyKey()).Result()
	return n == 2, store.WrapRedis(err)
}

// device is one push token as the worker needs it.
type device struct {
	token, platform, locale string
}

func deviceValue(platform, locale string) string { return platform + "|" + locale }

func parseDevice(token, v string) device {
	platform, locale, _ := strings.Cut(v, "|")
	return device{token: token, platform: platform, locale: locale}
}

// devicesOf returns the devices of each user, from the directory.
func (q *queue) devicesOf(ctx context.Context, users []string) (map[string][]device, error) {
	cmds := make([]*redis.MapStringStringCmd, len(users))
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.HGetAll(ctx, q.deviceKey(u))
		}
		return nil
	})
	if err != nil {
		return nil, store.WrapRedis(err)
	}
	out := make(map[string][]device, len(users))
	for i, u := range users {
		for token, v := range cmds[i].Val() {
			out[u] = append(out[u], parseDevice(token, v))
		}
	}
	return out, nil
}

func (q *queue) putDevice(ctx context.Context, user, token, platform, locale string) error {
	return store.WrapRedis(q.rdb.HSet(ctx, q.deviceKey(user), token, deviceValue(platform, locale)).Err())
}

func (q *queue) dropDevice(ctx context.Context, user, token string) error {
	return store.WrapRedis(q.rdb.HDel(ctx, q.deviceKey(user), token).Err())
}

// count adds one to each user's pushes of the local day and returns the
// new counts.
func (q *queue) count(ctx context.Context, users []string, day string) ([]int64, error) {
	cmds := make([]*redis.IntCmd, len(users))
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.Incr(ctx, q.capKey(u, day))
			p.Expire(ctx, q.capKey(u, day), 26*time.Hour)
		}
		return nil
	})
	if err != nil {
		return nil, store.WrapRedis(err)
	}
	out := make([]int64, len(users))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// lease takes a named lease for d; only one holder at a time.
func (q *queue) lease(ctx context.Context, name, owner string, d time.Duration) (bool, error) {
	ok, err := q.rdb.SetNX(ctx, q.key("lease:"+name), owner, d).Result()
	return ok, store.WrapRedis(err)
}

var unleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// unlease ends a lease if the owner still holds it.
func (q *queue) unlease(ctx context.Context, name, owner string) {
	_ = unleaseScript.Run(ctx, q.rdb, []string{q.key("lease:" + name)}, owner).Err()
}

// pending returns how many notifications wait in the queue.
func (q *queue) pending(ctx context.Context) (int64, error) {
	n, err := q.rdb.ZCard(ctx, q.key("due")).Result()
	return n, store.WrapRedis(err)
}
