package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Errors of the package.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
)

// Notification is one message to one user. Producers fill Key, UserID,
// Kind, Ref, Params and DueAt; the rest has defaults.
type Notification struct {
	// Key says what the notification is about, e.g.
	// "session_tomorrow:<session>:<user>". Scheduling one key twice
	// schedules it once; Cancel takes keys.
	Key    string
	UserID string
	Kind   Kind
	// Ref is the id the app opens (a session, a request, a campaign).
	Ref string
	// Params fill the kind's text: a first name and short labels, never a
	// phone number, an address or a full name.
	Params map[string]string
	DueAt  time.Time
	// ExpiresAt is when it stops being worth showing (default: DueAt plus
	// the kind's time to live). FCM gets the rest of it as its TTL.
	ExpiresAt time.Time
	// StartsAt is when the session a reminder is about starts: a reminder
	// due in quiet hours is sent then anyway if the session starts before
	// morning.
	StartsAt time.Time
	// Fallback are users who remind the recipient in person (their mentor,
	// commune staff) when the recipient has no phone token.
	Fallback []string
	// RecipientName is the recipient's first name, shown to a fallback.
	RecipientName string
	// OnBehalfOf is set on a copy sent to a fallback: whom to remind.
	OnBehalfOf string
	// Subjects are the people (volunteer or household ids) the text names
	// or is about: erasing one of them erases the notification too.
	Subjects  []string
	CreatedAt time.Time
}

// ID is the notification's id, derived from its key: the app-side message
// id that lets a phone drop a duplicate.
func (n Notification) ID() string { return IDOf(n.Key) }

// IDOf returns the id of the notification with the key.
func IDOf(key string) string {
	h := sha256.Sum256([]byte(key))
	return "n" + hex.EncodeToString(h[:12])
}

// State is where a notification stands.
type State string

// The states. Pending is the only one that changes.
const (
	StatePending    State = "pending"
	StateSent       State = "sent"       // at least one of the user's devices took it
	StateDigested   State = "digested"   // over the daily cap: in the morning digest and the list
	StateExpired    State = "expired"    // its time to live ran out before it could go
	StateCancelled  State = "cancelled"  // what it was about went away (a cancelled session)
	StateSkipped    State = "skipped"    // no longer true when due (the learner had a session)
	StateRedirected State = "redirected" // no phone token: sent to the fallback users instead
	StateNoDevice   State = "no_device"  // no phone token and nobody to redirect to: the list only
	StateFailed     State = "failed"     // FCM refused it for good, or retries ran out
)

// Final are the states a notification ends in.
var Final = []State{StateSent, StateDigested, StateExpired, StateCancelled, StateSkipped, StateRedirected, StateNoDevice, StateFailed}

// Item is a notification as its recipient sees it in the list.
type Item struct {
	ID        string
	Kind      Kind
	Ref       string
	Title     string
	Body      string
	State     State
	DueAt     time.Time
	SentAt    time.Time // zero unless sent
	CreatedAt time.Time
}

// Vietnam is Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
var Vietnam = time.FixedZone("Asia/Ho_Chi_Minh", 7*3600)

// Quiet hours, local time: nothing but a reminder of a session starting
// before morning is sent from QuietFrom to QuietUntil.
const (
	QuietFrom  = 21
	QuietUntil = 7
)

// deliverAt is when a notification due at due may go: due itself outside
// quiet hours, else the next 07:00 local, unless the session it is about
// (startsAt) starts before then.
func deliverAt(due, startsAt time.Time) time.Time {
	l := due.In(Vietnam)
	if h := l.Hour(); h >= QuietUntil && h < QuietFrom {
		return due
	}
	morning := time.Date(l.Year(), l.Month(), l.Day(), QuietUntil, 0, 0, 0, Vietnam)
	if l.Hour() >= QuietFrom {
		morning = morning.AddDate(0, 0, 1)
	}
	if !startsAt.IsZero() && startsAt.Before(morning) {
		return due
	}
	return morning
}

// localDay is the Asia/Ho_Chi_Minh date of t, as used by the daily cap.
func localDay(t time.Time) string { return t.In(Vietnam).Format("20060102") }

// nextMorning is 07:00 local on the day after t.
func nextMorning(t time.Time) time.Time {
	l := t.In(Vietnam)
	return time.Date(l.Year(), l.Month(), l.Day()+1, QuietUntil, 0, 0, 0, Vietnam)
}

// collapseKey groups notifications of which only the newest matters on a
// phone: the reminders of one session replace each other.
func collapseKey(n Notification) string {
	group := kinds[n.Kind].collapse
	if group == "" {
		group = string(n.Kind)
	}
	if n.Ref == "" {
		return group
	}
	return group + "-" + n.Ref
}
