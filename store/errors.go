package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// ErrUnavailable marks an error caused by a store that cannot be reached or
// did not answer in time. The API turns it into 503.
var ErrUnavailable = errors.New("store unavailable")

// ErrDuplicate marks a write refused by a unique index.
var ErrDuplicate = errors.New("duplicate key")

// OutageError says which store was down. It matches ErrUnavailable.
type OutageError struct {
	Store string // "mongodb" or "redis"
	Err   error
}

func (e *OutageError) Error() string { return e.Store + " unavailable: " + e.Err.Error() }
func (e *OutageError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *OutageError) Is(target error) bool { return target == ErrUnavailable }

// WrapMongo classifies a MongoDB driver error: outages become an
// *OutageError (matching ErrUnavailable) and unique-index refusals match
// ErrDuplicate; both keep the original error for the logs.
func WrapMongo(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrDuplicate):
		return err
	case mongo.IsDuplicateKeyError(err):
		return errors.Join(ErrDuplicate, err)
	case isOutage(err):
		return &OutageError{Store: "mongodb", Err: err}
	}
	return err
}

// WrapRedis classifies a go-redis error: outages become an *OutageError.
// redis.Nil and server replies are returned as they are.
func WrapRedis(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !isOutage(err) {
		return err
	}
	return &OutageError{Store: "redis", Err: err}
}

// isOutage reports whether err comes from a store that is down, unreachable
// or too slow, as opposed to a store that answered.
func isOutage(err error) bool {
	// Waiting for one of the pool's connections, all in use, until the
	// request's time ran out: the store is busy, not down (a wait cut
	// short otherwise, as when a sibling call failed, is left to the
	// checks below).
	var wait topology.WaitQueueTimeoutError
	if errors.As(err, &wait) && errors.Is(wait.Wrapped, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) {
		return true
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		return true
	}
	// An operation waiting for a connection when another on the same
	// server failed and the pool was cleared (the driver's
	// poolClearedError, which it retries once and then returns): the server
	// went away.
	var cleared driver.RetryablePoolError
	if errors.As(err, &cleared) && cleared.Retryable() {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// The embedded FerretDB's SQLite waited its busy_timeout for the write
	// lock and gave up: the store is overloaded, not the request wrong. It
	// comes back as an InternalError whose text is all there is to go by.
	msg := err.Error()
	if strings.Contains(msg, "SQLITE_BUSY") {
		return true
	}
	// The embedded FerretDB being stopped cancels its own work and answers
	// the commands under way with an InternalError "context canceled" (a
	// client that gave up gets no answer at all): the store is going down.
	// Found by TestMongoStoppedUnderLoad, answered 500 before.
	if strings.Contains(msg, "(InternalError)") && strings.Contains(msg, "context canceled") {
		return true
	}
	// A query that ran past its time (maxTimeMS, which the driver sets from
	// the context's deadline): MongoDB says MaxTimeMSExpired, which
	// mongo.IsTimeout knows; FerretDB an InternalError from its handler.
	if strings.Contains(msg, "handleMaxTimeMSError") {
		return true
	}
	// go-redis reports a closed pool and pool timeouts as plain errors.
	return strings.Contains(msg, "redis: client is closed") ||
		strings.Contains(msg, "redis: connection pool timeout") ||
		strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "connection reset")
}
