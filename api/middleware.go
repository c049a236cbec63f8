package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

const (
	localRequestID = "request_id"
	localRoute     = "route"
	localPrincipal = "principal"
	localSubject   = "subject" // the id a response is about, for erasure of idempotency records
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// withRequestID gives every request an id, taking a well-formed X-Request-ID
// from the caller (so a proxy's id follows the request) or making one.
func withRequestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	} else {
		id = string([]byte(id)) // c.Get's bytes are reused after the request
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// withDeadline bounds every request: c.UserContext() has no deadline of its
// own, and a store call under it gives up when the request does.
func (a *API) withDeadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.deps.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// observe logs each request and counts it in the metrics, by route pattern
// (never the raw path, which holds ids) and status. It renders errors itself
// so that the status it records is the one the client gets.
func (a *API) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := a.handleError(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	route := routeLabel(c)
	elapsed := time.Since(start)
	code := strconv.Itoa(status)
	// Fiber reuses the method's bytes for the next request; the metrics
	// keep their label values, so they get a copy.
	method := strings.Clone(c.Method())
	a.metrics.requests.WithLabelValues(method, route, code).Inc()
	a.metrics.latency.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
	attrs := []any{"request_id", requestID(c), "method", method, "route", route,
		"status", status, "ms", float64(elapsed.Microseconds()) / 1000}
	if p, ok := c.Locals(localPrincipal).(principal); ok {
		attrs = append(attrs, "user", p.ID)
	}
	a.log.Info("request", attrs...)
	return nil
}

// routeLabel is the pattern of the route that answered, or "unmatched".
func routeLabel(c *fiber.Ctx) string {
	if r, ok := c.Locals(localRoute).(string); ok {
		return r
	}
	return "unmatched"
}

// markRoute is the first handler of every route: it records the pattern
// for logs and metrics.
func markRoute(pattern string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localRoute, pattern)
		return c.Next()
	}
}
