// Package sessions keeps mentoring sessions: scheduled by a mentor (with a
// client-chosen id, so phones can create them offline), checked in with
// topics covered and outcomes per learner, confirmed by the other side,
// and only then scored. It also keeps learners' progress toward
// certification and the households that became a Gia đình số.
//
// A session's state changes by inserting its next event under the unique
// _id "<session>#<version>" (collection session_events); of two changes
// made from the same version exactly one wins, even on a store that loses
// concurrent updates. The sessions collection holds the latest
// snapshot for queries and is brought forward from the events when it
// lags (a crash between the two writes).
package sessions

import (
	"errors"
	"time"

	"daisuso/geo"
)

// States of a session and the transitions between them:
//
//	scheduled --check-in--> held --confirm--> confirmed (scored)
//	    |                     \--confirm, when flagged--> pending_review --review--> confirmed | rejected
//	    \--cancel--> cancelled
const (
	StateScheduled     = "scheduled"
	StateHeld          = "held"
	StateConfirmed     = "confirmed"
	StatePendingReview = "pending_review"
	StateRejected      = "rejected"
	StateCancelled     = "cancelled"
)

// Outcomes a mentor records per learner (people.Outcomes names them).
var Outcomes = []string{"vneid_activated", "epayment_setup", "first_online_service", "scam_lesson"}

// Review flags: why a session is held for a branch admin to look at
// instead of scoring.
const (
	FlagOverlap        = "overlaps_another_session"
	FlagTooManyPerDay  = "too_many_sessions_that_day"
	FlagImpossibleTrip = "check_ins_too_far_apart"
	// The held time the phone recorded is ahead of the server's clock, or
	// older than MaxHeldAge when the session is checked in or confirmed:
	// points are dated by it (the week, month, campaign and multiplier it
	// earns in), so a person decides whether it is true.
	FlagHeldInFuture = "held_time_in_future"
	FlagReportedLate = "reported_late"
)

// Limits.
const (
	MaxLearners   = 20
	MinMinutes    = 15
	MaxMinutes    = 240
	MaxPerDay     = 6    // sessions checked in on one local day before review
	MaxSpeedKmH   = 60.0 // mountain roads by motorbike, generously
	TravelSlackKm = 3.0  // cells are coarse: two check-ins in neighbouring cells
	MaxSyncItems  = 200
	CodeAttempts  = 5 // wrong confirmation codes per session per hour
	// MaxHeldAge is how long after it was held a session may be checked
	// in or confirmed without review: a week, time enough for a phone out
	// of signal to come back and for the family to confirm, short enough
	// that a week's or a campaign's board is not changed long after.
	MaxHeldAge = 7 * 24 * time.Hour
	// ClockSkew is how far ahead of the server a phone's clock may be.
	ClockSkew        = 5 * time.Minute
	scheduleAheadMax = 120 * 24 * time.Hour
	scheduleBackMax  = 30 * 24 * time.Hour
)

var (
	// ErrNotFound: no such session, or one the caller may not see.
	ErrNotFound = errors.New("session not found")
	// ErrChanged: another change to the session won; reload and retry.
	ErrChanged = errors.New("session changed meanwhile")
)

// StateError is a transition the session's state does not allow (409).
type StateError struct {
	State  string // the session's state
	Action string
}

func (e *StateError) Error() string { return "cannot " + e.Action + " a " + e.State + " session" }

// Learner is one member of a household.
type Learner struct {
	HouseholdID string
	Member      int    // index in the household's members
	Language    string // the member's language, kept for the bilingual badge
}

// Key is "household#member", the learner's id in progress records.
func (l Learner) Key() string { return l.HouseholdID + "#" + itoa(l.Member) }

// Result is what a learner got out of a held session.
type Result struct {
	HouseholdID string
	Member      int
	// Topics are the session's topics this learner took part in; nil: all
	// of the session's topics covered.
	Topics   []string
	Outcomes []string
}

// TopicsOf are the topics a check-in covered for a learner.
func (c CheckIn) TopicsOf(r Result) []string {
	if r.Topics != nil {
		return r.Topics
	}
	return c.TopicsCovered
}

// CheckIn is the mentor's record of a held session.
type CheckIn struct {
	At            time.Time
	Cell          geo.Cell
	TopicsCovered []string
	Results       []Result // the learners who attended
	ItemID        string   // the offline item that carried it, if any
}

// Confirmation is the other side's word that the session happened.
type Confirmation struct {
	By     string // user id
	Role   string
	Method string // "household_app" or "staff_code"
	At     time.Time
}

// Review is a branch admin's decision on a flagged session.
type Review struct {
	By       string
	Decision string // "approve" or "reject"
	At       time.Time
}

// Session is a mentoring session.
type Session struct {
	ID           string
	Version      int
	MentorID     string
	BranchID     string
	CommuneID    string
	Learners     []Learner
	Households   []string
	StartsAt     time.Time
	Minutes      int
	Cell         geo.Cell // where it is planned
	Topics       []string
	State        string
	CheckIn      *CheckIn
	Flags        []string
	Confirmation *Confirmation
	Review       *Review
	ScheduleItem string // the offline item that scheduled it, if any
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// counts reports whether the session scores: confirmed, directly or on
// review.
func (s Session) counts() bool { return s.State == StateConfirmed }
