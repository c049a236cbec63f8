package sessions

import (
	"slices"
	"time"

	"daisuso/gamify"
	"daisuso/people"
)

// The certification rule ("đạt chuẩn kỹ năng số"). A learner is certified
// on evidence recorded for that learner in confirmed sessions, never on
// what a session was about as a whole:
//
//  1. every core topic (people.CoreTopics) covered for them: a check-in's
//     topics count for a learner as its result for them lists them, or,
//     where it lists none, as the session covered them;
//  2. every outcome the programme tracks (CertOutcomes) recorded for them:
//     what they did on their own phone, not only heard about;
//  3. in at least MinCertDays confirmed sessions held on different local
//     days: a skill is learnt over time, and one long session listing
//     everything proves little.
//
// Missing lists what is still lacking, in the order above; a learner is
// certified when nothing is.
const MinCertDays = 2

// CertOutcomes are the outcomes a learner needs for certification: each
// core topic that has one (smartphone basics has none).
var CertOutcomes = []string{"vneid_activated", "epayment_setup", "first_online_service", "scam_lesson"}

// What Missing names besides topics and outcomes.
const MissingSecondDay = "second_session_day"

// Evidence is what confirmed sessions recorded for one learner.
type Evidence struct {
	Topics   []string
	Outcomes []string
	Days     []string // local dates (Asia/Ho_Chi_Minh) of the sessions
}

// add counts a confirmed session held at `at` with the learner's topics
// and outcomes.
func (e *Evidence) add(at time.Time, topics, outcomes []string) {
	for _, t := range topics {
		if !slices.Contains(e.Topics, t) {
			e.Topics = append(e.Topics, t)
		}
	}
	for _, o := range outcomes {
		if !slices.Contains(e.Outcomes, o) {
			e.Outcomes = append(e.Outcomes, o)
		}
	}
	if day := at.In(gamify.Vietnam).Format(time.DateOnly); !slices.Contains(e.Days, day) {
		e.Days = append(e.Days, day)
	}
}

// Missing is what e lacks for certification: "topic:<code>",
// "outcome:<code>" and MissingSecondDay. Empty: certified.
func (e Evidence) Missing() []string {
	var out []string
	for _, t := range people.CoreTopics {
		if !slices.Contains(e.Topics, t) {
			out = append(out, "topic:"+t)
		}
	}
	for _, o := range CertOutcomes {
		if !slices.Contains(e.Outcomes, o) {
			out = append(out, "outcome:"+o)
		}
	}
	if len(e.Days) < MinCertDays {
		out = append(out, MissingSecondDay)
	}
	return out
}
