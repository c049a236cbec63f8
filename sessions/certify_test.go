package sessions

import (
	"slices"
	"testing"
	"time"
)

func TestCertificationRule(t *testing.T) {
	day1 := time.Date(2026, 10, 9, 9, 0, 0, 0, time.UTC)
	// 18:00 UTC is 01:00 the next day in Vietnam: a different local day.
	lateDay1 := time.Date(2026, 10, 9, 18, 0, 0, 0, time.UTC)
	sameLocalDay := time.Date(2026, 10, 9, 12, 0, 0, 0, time.UTC)
	core := []string{"smartphone_basics", "vneid", "public_services", "cashless_payment", "scam_safety"}
	for _, tc := range []struct {
		name     string
		sessions func(e *Evidence)
		missing  []string
	}{
		{"one session listing everything", func(e *Evidence) { e.add(day1, core, CertOutcomes) },
			[]string{MissingSecondDay}},
		{"two sessions on one local day", func(e *Evidence) {
			e.add(day1, core, CertOutcomes)
			e.add(sameLocalDay, core, nil)
		}, []string{MissingSecondDay}},
		{"two local days", func(e *Evidence) {
			e.add(day1, core[:3], CertOutcomes[:2])
			e.add(lateDay1, core[3:], CertOutcomes[2:])
		}, nil},
		{"topics without outcomes", func(e *Evidence) {
			e.add(day1, core, nil)
			e.add(lateDay1, core, []string{"vneid_activated"})
		}, []string{"outcome:epayment_setup", "outcome:first_online_service", "outcome:scam_lesson"}},
		{"scam safety only", func(e *Evidence) {
			e.add(day1, []string{"scam_safety"}, []string{"scam_lesson"})
			e.add(lateDay1, []string{"scam_safety"}, nil)
		}, []string{"topic:smartphone_basics", "topic:vneid", "topic:public_services", "topic:cashless_payment",
			"outcome:vneid_activated", "outcome:epayment_setup", "outcome:first_online_service"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Evidence
			tc.sessions(&e)
			if got := e.Missing(); !slices.Equal(got, tc.missing) {
				t.Fatalf("missing %v, want %v", got, tc.missing)
			}
		})
	}
}

func TestTopicsOfALearner(t *testing.T) {
	c := CheckIn{TopicsCovered: []string{"vneid", "scam_safety"}}
	if got := c.TopicsOf(Result{}); !slices.Equal(got, c.TopicsCovered) {
		t.Fatalf("no topics of their own: %v", got)
	}
	if got := c.TopicsOf(Result{Topics: []string{"scam_safety"}}); !slices.Equal(got, []string{"scam_safety"}) {
		t.Fatalf("their own: %v", got)
	}
}
