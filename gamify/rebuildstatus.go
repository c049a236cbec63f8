package gamify

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// States of a rebuild started with StartRebuild.
const (
	RebuildNever   = "never"
	RebuildRunning = "running"
	RebuildDone    = "done"
	RebuildFailed  = "failed"
)

// rebuildTimeout bounds a rebuild started in the background.
const rebuildTimeout = 30 * time.Minute

// RebuildStatus is what became of the last rebuild started with
// StartRebuild, as any instance reads it (it is kept in Redis).
type RebuildStatus struct {
	State      string    `json:"state"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Generation string    `json:"generation,omitempty"`
	Entries    int       `json:"entries"`
	Late       int       `json:"late"`
	Keys       int       `json:"keys"`
	// Error says why it failed: "timeout" (it ran out of time: nothing is
	// down), "store_unavailable" (the ledger or Redis did not answer),
	// "failed" (anything else, in the server's log).
	Error string `json:"error,omitempty"`
}

// StartRebuild starts a rebuild of every board from the ledger in the
// background and returns at once; RebuildStatus tells how it goes. A
// rebuild already running is ErrRebuildRunning.
func (s *Service) StartRebuild(ctx context.Context) (RebuildStatus, error) {
	n, err := s.boards.rdb.Exists(ctx, s.boards.key("rebuild")).Result()
	if err != nil {
		return RebuildStatus{}, store.WrapRedis(err)
	}
	if n > 0 {
		return RebuildStatus{}, ErrRebuildRunning
	}
	st := RebuildStatus{State: RebuildRunning, StartedAt: s.now().UTC().Truncate(time.Second)}
	if err := s.saveRebuildStatus(ctx, st); err != nil {
		return RebuildStatus{}, err
	}
	go func() {
		// The request's deadline is not the rebuild's: it reads the whole
		// ledger and waits for awards in flight (Grace) at the switch.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
		defer cancel()
		stats, err := s.Rebuild(ctx)
		if errors.Is(err, ErrRebuildRunning) {
			return // another one started meanwhile; its status stands
		}
		done := st
		done.FinishedAt = s.now().UTC().Truncate(time.Second)
		done.State, done.Generation, done.Entries, done.Late, done.Keys = RebuildDone, stats.Generation, stats.Entries, stats.Late, stats.Keys
		if err != nil {
			done.State, done.Error = RebuildFailed, rebuildError(err)
			s.log.Error("leaderboards rebuild failed", "err", err)
		}
		if err := s.saveRebuildStatus(context.WithoutCancel(ctx), done); err != nil {
			s.log.Error("rebuild status not saved", "err", err)
		}
	}()
	return st, nil
}

// rebuildError names a failure for people: a timeout is not an outage.
func rebuildError(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, store.ErrUnavailable):
		return "store_unavailable"
	}
	return "failed"
}

// LastRebuild returns the status of the last rebuild started with
// StartRebuild (State RebuildNever when there was none).
func (s *Service) LastRebuild(ctx context.Context) (RebuildStatus, error) {
	b, err := s.boards.rdb.Get(ctx, s.boards.key("rebuild", "status")).Bytes()
	if errors.Is(err, redis.Nil) {
		return RebuildStatus{State: RebuildNever}, nil
	}
	if err != nil {
		return RebuildStatus{}, store.WrapRedis(err)
	}
	var st RebuildStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return RebuildStatus{}, err
	}
	return st, nil
}

func (s *Service) saveRebuildStatus(ctx context.Context, st RebuildStatus) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return store.WrapRedis(s.boards.rdb.Set(ctx, s.boards.key("rebuild", "status"), b, 0).Err())
}
