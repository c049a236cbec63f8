package store

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// RedisConfig says where Redis is, how long to wait for it, and the prefix
// every key of this deployment starts with (tests use one per test).
type RedisConfig struct {
	URL     string
	Timeout time.Duration
}

// OpenRedis connects to Redis with short timeouts and no hidden retries, so
// that a dead Redis costs a request one timeout, not 3 x 5 s.
func OpenRedis(ctx context.Context, cfg RedisConfig) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	opts.DialTimeout = cfg.Timeout
	opts.ReadTimeout = cfg.Timeout
	opts.WriteTimeout = cfg.Timeout
	// A command waiting for a free connection is waiting for a busy
	// Redis, not a dead one: it waits within its own context's deadline
	// (ContextTimeoutEnabled), up to poolWait without one, instead of
	// failing after the I/O timeout as an outage would.
	opts.PoolTimeout = poolWait
	opts.MaxRetries = 1
	// go-redis dials 5 times with 100 ms pauses by default: a dead Redis
	// would cost each command half a second before its own timeout.
	opts.DialerRetries = 1
	opts.ContextTimeoutEnabled = true
	// go-redis keeps 10 connections per core (20 here); requests past
	// that wait for one. 64 let 50 clients reading leaderboards wait less
	// (docs/PERFORMANCE.md, "Redis pool"). A pool_size in REDIS_URL is kept.
	if opts.PoolSize == 0 {
		opts.PoolSize = 64
	}
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*cfg.Timeout)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis ping: %w", WrapRedis(err))
	}
	return client, nil
}

// poolWait bounds how long a command without a deadline of its own waits
// for a connection of the pool (one with a deadline waits until it).
const poolWait = 30 * time.Second

// OpenRedisCluster connects to a Redis Cluster through the seed addresses,
// with the timeouts of OpenRedis. Every command of the service touches one
// key or keys that share a hash tag, so it runs unchanged on a cluster.
func OpenRedisCluster(ctx context.Context, addrs []string, timeout time.Duration) (*redis.ClusterClient, error) {
	if timeout <= 0 {
		timeout = 500 * time.Millisecond
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: poolWait,
		MaxRetries: 1, DialerRetries: 1, ContextTimeoutEnabled: true})
	pingCtx, cancel := context.WithTimeout(ctx, 5*timeout)
	defer cancel()
	if err := client.ForEachMaster(pingCtx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis cluster ping: %w", WrapRedis(err))
	}
	return client, nil
}

// StartMiniRedis starts an in-process Redis-protocol server on a loopback
// port. It keeps nothing on disk: the leaderboards it holds are rebuilt from
// MongoDB at start.
func StartMiniRedis() (*miniredis.Miniredis, string, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, "", fmt.Errorf("start in-process redis: %w", err)
	}
	return m, "redis://" + m.Addr() + "/0", nil
}
