package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"daisuso/store"
	"daisuso/store/storetest"
)

// TestRedisPoolWaitsWithinTheDeadline: a command that finds every pooled
// connection busy waits for one within its own deadline instead of failing
// after the I/O timeout, which would read as a store outage.
func TestRedisPoolWaitsWithinTheDeadline(t *testing.T) {
	url := storetest.RedisURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	rdb, err := store.OpenRedis(context.Background(), store.RedisConfig{URL: url + sep + "pool_size=1", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	// The pool's one connection is held for 600 ms by a blocking command.
	busy := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		busy <- rdb.BLPop(ctx, 600*time.Millisecond, storetest.Name("q")).Err()
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("a command waiting for the busy pool: %v", err)
	}
	<-busy
}
