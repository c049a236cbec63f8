package store

import (
	"context"
	"time"
)

// Every calls f every interval until ctx ends, the first time one interval
// from now (or at once when now is set): the one loop of the service's
// background upkeep, so that each part gives a single pass and the
// command decides how often and waits for all of them at shutdown.
func Every(ctx context.Context, interval time.Duration, now bool, f func(context.Context)) {
	if now {
		f(ctx)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}
