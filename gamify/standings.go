package gamify

import (
	"context"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// standings runs the standing script for `me` reads that arrive together
// in one pipeline: a read that finds a pipeline in flight waits for the
// next one with the others that came meanwhile, instead of a round trip
// of its own. A lone read goes at once. At most maxStandingFlushers
// pipelines are in flight: with one, more reads share each pipeline, which
// measured a lower p99 for `me` than two (docs/PERFORMANCE.md, "me
// pipelines").
// A slow pipeline holds up the reads behind it, for at most the Redis
// client's timeout.
type standings struct {
	rdb     redis.UniversalClient
	batches store.Batcher[*standingCall]
}

func newStandings(rdb redis.UniversalClient) *standings {
	s := &standings{rdb: rdb}
	s.batches = store.Batcher[*standingCall]{Send: s.send, Max: maxStandingBatch, Flushers: maxStandingFlushers}
	return s
}

const (
	maxStandingFlushers = 1
	maxStandingBatch    = 64
)

type standingCall struct {
	key, member string
	around      int
	res         []any
	err         error
	done        chan struct{}
}

// run returns the script's reply for a member of a board: redis.Nil when
// the member is not on it.
func (s *standings) run(ctx context.Context, key, member string, around int) ([]any, error) {
	c := &standingCall{key: key, member: member, around: around, done: make(chan struct{})}
	s.batches.Add(ctx, c)
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *standings) send(ctx context.Context, batch []*standingCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.res, c.err = standingScript.Run(ctx, s.rdb, []string{c.key}, c.member, c.around).Slice()
		close(c.done)
		return
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, c := range batch {
		cmds[i] = standingScript.EvalSha(ctx, p, []string{c.key}, c.member, c.around)
	}
	_, _ = p.Exec(ctx) // each command carries its own error
	for i, c := range batch {
		c.res, c.err = cmds[i].Slice()
		if c.err != nil && redis.HasErrorPrefix(c.err, "NOSCRIPT") {
			// Redis lost its scripts (a restart): Run loads it again.
			c.res, c.err = standingScript.Run(ctx, s.rdb, []string{c.key}, c.member, c.around).Slice()
		}
		close(c.done)
	}
}
