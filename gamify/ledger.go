package gamify

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Reasons for points, each with its base points. Nothing a client sends
// sets points: every award names a fact the server established.
const (
	ReasonSession      = "session_confirmed"   // a session confirmed by the other side
	ReasonOutcome      = "learner_outcome"     // a learner's first VNeID activation, e-payment, ... in a confirmed session
	ReasonCertified    = "learner_certified"   // a learner completed the core topics
	ReasonFamily       = "household_digital"   // a household became a Gia đình số
	ReasonQuotaReached = "mentor_reached_five" // a mentor has five learners with confirmed sessions
)

// BasePoints are the points of each reason before multipliers.
var BasePoints = map[string]int{
	ReasonSession:      10,
	ReasonOutcome:      5,
	ReasonCertified:    30,
	ReasonFamily:       20,
	ReasonQuotaReached: 50,
}

// Who is the volunteer an award goes to, as the boards need them: the
// units they count for and the display names of the top lists.
type Who struct {
	VolunteerID  string
	Name         string // the volunteer's first name
	BranchID     string
	BranchName   string
	CommuneID    string
	CommuneName  string
	ProvinceCode string
	CommuneCode  string
}

// Credit is what an award earned in one campaign.
type Credit struct {
	Campaign string
	Points   int
}

// Entry is one immutable award of the ledger. ID is the source key that
// makes it unique.
type Entry struct {
	ID      string
	Reason  string
	Source  string // the session, learner or household the fact is about
	Points  int    // base points
	At      time.Time
	Who     Who
	Credits []Credit
}

// Award is a fact that earns points.
type Award struct {
	Key    string // unique source key, e.g. "session:<id>"
	Reason string
	Source string
	Who    Who
	At     time.Time // when the fact happened (the confirmation time)
}

// Award records a as a ledger entry, exactly once per key, and adds it to
// the boards. made is false when the key had been awarded before (nothing
// changes then). A board write that fails does not fail the award: the
// ledger is the truth, and the boards are rebuilt from it (Maintain).
func (s *Service) Award(ctx context.Context, a Award) (e Entry, made bool, err error) {
	base, ok := BasePoints[a.Reason]
	if !ok || a.Key == "" || a.Who.VolunteerID == "" {
		return Entry{}, false, fmt.Errorf("gamify: bad award %q (%s)", a.Key, a.Reason)
	}
	at := a.At.UTC().Truncate(time.Millisecond)
	e = Entry{ID: a.Key, Reason: a.Reason, Source: a.Source, Points: base, At: at, Who: a.Who}
	if e.Credits, err = s.campaigns.creditsOf(ctx, s.now(), e); err != nil {
		return Entry{}, false, err
	}
	// Answered once the award's group is written, even past ctx's end
	// (store.Grouper); on an error the ledger may hold it or not, and a
	// retry under the same key finds out.
	fresh, err := s.writer.Insert(ctx, e)
	if err != nil {
		return Entry{}, false, err
	}
	if !fresh[0] {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// credits are what an entry earns in each campaign that covers it.
func credits(list []Campaign, e Entry) []Credit {
	var out []Credit
	for _, c := range list {
		if c.covers(e.Who, e.At) {
			out = append(out, Credit{Campaign: c.ID, Points: int(math.Round(float64(e.Points) * c.factor(e.At)))})
		}
	}
	return out
}
