package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestWrapMongoClassifies(t *testing.T) {
	busy := errors.New("(InternalError) [db.go:134 fsql.(*DB).InTransaction] database is locked (5) (SQLITE_BUSY)")
	for _, c := range []struct {
		err         error
		unavailable bool
	}{
		{busy, true},
		{fmt.Errorf("matching: %w", busy), true},
		{errors.New("(InternalError) [msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:94 sqlite.(*collection).Query] interrupted (9)"), true},
		{errors.New("(InternalError) [msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] context canceled"), true},
		{errors.New("(BadValue) unknown operator: $foo"), false},
		{fmt.Errorf("insert: %w", poolCleared{}), true},
	} {
		if got := errors.Is(WrapMongo(c.err), ErrUnavailable); got != c.unavailable {
			t.Errorf("%v: unavailable %v, want %v", c.err, got, c.unavailable)
		}
	}
}

// poolCleared stands for the driver's unexported poolClearedError: what
// an operation waiting for a connection gets when the server went away
// and the pool was cleared.
type poolCleared struct{}

func (poolCleared) Error() string {
	return "connection pool for 127.0.0.1:1 was cleared because another operation failed with: EOF"
}
func (poolCleared) Retryable() bool { return true }
