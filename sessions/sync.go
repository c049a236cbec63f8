package sessions

import (
	"context"
	"errors"
	"slices"
	"time"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/people"
	"daisuso/store"
)

// Sync operations a phone logs offline.
const (
	OpSchedule = "schedule"
	OpCheckIn  = "check_in"
	OpCancel   = "cancel"
)

// Item is one thing done offline.
type Item struct {
	ItemID    string // a UUID the phone gave it
	Op        string
	SessionID string
	// schedule
	Learners []Learner
	StartsAt time.Time
	Minutes  int
	Topics   []string
	// schedule and check-in
	Location *geo.Point
	// check-in
	At            time.Time
	TopicsCovered []string
	Results       []Result
}

// ItemResult is what became of an item: "applied", "already_applied", or
// "rejected" with the error (the phone shows it and drops the item), or
// "retry" when a store was down (the phone keeps it).
type ItemResult struct {
	ItemID  string
	Status  string
	Session *Session
	Err     error
}

// A batch is applied schedules first, then check-ins, then cancellations.
var opOrder = map[string]int{OpSchedule: 0, OpCheckIn: 1, OpCancel: 2}

// Sync applies a batch of offline items. Each item is applied exactly once
// however often the batch is sent: a session's id is the client's, and a
// repeated schedule or check-in is recognised as the same one. Items are
// applied schedules first, then by time, so the order they arrive in does
// not matter; results come back in the order sent.
func (s *Service) Sync(ctx context.Context, a people.Actor, items []Item) ([]ItemResult, error) {
	if len(items) == 0 {
		return nil, &errs.FieldError{Field: "items", Reason: "required"}
	}
	if len(items) > MaxSyncItems {
		return nil, &errs.FieldError{Field: "items", Reason: "too_many"}
	}
	seen := map[string]bool{}
	for _, it := range items {
		if !ValidID(it.ItemID) {
			return nil, &errs.FieldError{Field: "items.item_id", Reason: "invalid_uuid"}
		}
		if seen[it.ItemID] {
			return nil, &errs.FieldError{Field: "items.item_id", Reason: "duplicate"}
		}
		seen[it.ItemID] = true
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		a, b := items[x], items[y]
		if d := opOrder[a.Op] - opOrder[b.Op]; d != 0 {
			return d
		}
		return a.At.Compare(b.At)
	})
	out := make([]ItemResult, len(items))
	for _, i := range order {
		out[i] = s.apply(ctx, a, items[i])
	}
	return out, nil
}

func (s *Service) apply(ctx context.Context, a people.Actor, it Item) ItemResult {
	r := ItemResult{ItemID: it.ItemID}
	var sess Session
	var applied bool
	var err error
	switch it.Op {
	case OpSchedule:
		sess, applied, err = s.Schedule(ctx, a, NewSession{ID: it.SessionID, Learners: it.Learners, StartsAt: it.StartsAt,
			Minutes: it.Minutes, Location: it.Location, Topics: it.Topics, ItemID: it.ItemID})
	case OpCheckIn:
		sess, applied, err = s.CheckIn(ctx, a, it.SessionID, CheckInInput{At: it.At, Location: it.Location,
			TopicsCovered: it.TopicsCovered, Results: it.Results, ItemID: it.ItemID})
	case OpCancel:
		sess, applied, err = s.Cancel(ctx, a, it.SessionID)
	default:
		err = &errs.FieldError{Field: "op", Reason: "unknown_code"}
	}
	r.Status = "applied"
	if !applied {
		r.Status = "already_applied"
	}
	if err != nil {
		r.Status, r.Err = "rejected", err
		if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrChanged) {
			r.Status = "retry"
		}
		return r
	}
	r.Session = &sess
	return r
}
