package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"daisuso/store"
)

// Broadcasts a branch may send a local day, counted with insert-only
// slots (branch#day#n) so that concurrent sends cannot pass the limit,
// even on a store that loses concurrent updates.
const BroadcastsPerDay = 3

// ErrBroadcastLimit: the branch has sent its broadcasts for today.
var ErrBroadcastLimit = errors.New("broadcast limit reached")

// Broadcast is a branch admin's message to the users of their unit. It is
// fanned out to one notification per user rather than sent to an FCM
// topic: each recipient then gets it in the list, within quiet hours and
// the daily cap, through their fallback if they have no phone; and topic
// subscriptions go through an API the local FCM stand-in cannot serve.
type Broadcast struct {
	ID, BranchID, By string
	Title, Body      string
	Users            []string
	DueAt            time.Time
}

// Send schedules a broadcast; it returns ErrBroadcastLimit when the branch
// has used today's.
func (s *Service) Send(ctx context.Context, b Broadcast) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	day := localDay(now)
	took := false
	for n := 1; n <= BroadcastsPerDay && !took; n++ {
		fresh, err := store.InsertNew(ctx, s.st.broadcasts, []broadcastDoc{{ID: b.BranchID + "#" + day + "#" + strconv.Itoa(n),
			Broadcast: b.ID, By: b.By, Recipients: len(b.Users), At: now}})
		if err != nil {
			return fmt.Errorf("broadcast: %w", err)
		}
		took = fresh[0]
	}
	if !took {
		return ErrBroadcastLimit
	}
	for users := b.Users; len(users) > 0; {
		chunk := users[:min(len(users), 1000)]
		users = users[len(chunk):]
		ns := make([]Notification, len(chunk))
		for i, u := range chunk {
			ns[i] = Notification{Key: "broadcast:" + b.ID + ":" + u, UserID: u, Kind: KindBroadcast, Ref: b.ID,
				Params: map[string]string{"title": b.Title, "body": b.Body}, DueAt: b.DueAt}
		}
		if err := s.Enqueue(ctx, ns...); err != nil {
			return fmt.Errorf("broadcast: %w", err)
		}
	}
	return nil
}
