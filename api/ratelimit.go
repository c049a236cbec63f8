package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// RateLimits are requests allowed per minute; 0 turns a limit off.
type RateLimits struct {
	PerUser int
	PerIP   int
}

// limiter counts requests in fixed one-minute windows in Redis, so that a
// limit holds across every instance of the service. One key per subject and
// window; each command touches one key, so it works on Redis Cluster.
type limiter struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

const rateWindow = time.Minute

// allow counts one request of subject and reports whether it is within
// limit, and if not, how many seconds until the window ends.
func (l *limiter) allow(ctx context.Context, subject string, limit int) (ok bool, retryAfter int, err error) {
	now := l.now()
	window := now.Unix() / int64(rateWindow.Seconds())
	key := l.prefix + "rl:{" + subject + "}:" + strconv.FormatInt(window, 10)
	pipe := l.rdb.TxPipeline()
	incr := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, 2*rateWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		return true, 0, store.WrapRedis(err)
	}
	if incr.Val() <= int64(limit) {
		return true, 0, nil
	}
	end := time.Unix((window+1)*int64(rateWindow.Seconds()), 0)
	return false, int(end.Sub(now).Seconds()) + 1, nil
}

// rateLimit refuses a subject over its limit with 429. When Redis is down it
// lets the request through (and counts the store error): a limit is worth
// less than the service staying up on campaign day.
func (a *API) rateLimit(limit int, subject func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if limit <= 0 || a.limiter == nil {
			return c.Next()
		}
		ok, after, err := a.limiter.allow(c.UserContext(), subject(c), limit)
		if err != nil {
			a.metrics.storeErrors.WithLabelValues("redis").Inc()
			a.log.Warn("rate limit skipped: redis unavailable", "request_id", requestID(c), "err", err)
			return c.Next()
		}
		if !ok {
			return newError(fiber.StatusTooManyRequests, "rate_limited", map[string]any{"retry_after_seconds": after})
		}
		return c.Next()
	}
}

func ipSubject(c *fiber.Ctx) string   { return "ip:" + c.IP() }
func userSubject(c *fiber.Ctx) string { return "u:" + callerOf(c).ID }
