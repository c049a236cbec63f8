package programme

import (
	"testing"
	"time"

	"daisuso/gamify"
)

// Rank orders by the figure asked for, highest first and ties by id; a
// row without a population figure has no rate and comes after every row
// with one, even a rate of 0.
func TestRank(t *testing.T) {
	rate := func(v float64) *float64 { return &v }
	rows := []Ranking{
		{ID: "c", FamilyShare: 0.5, Sessions: 3, CertifiedPer1000: rate(0)},
		{ID: "a", FamilyShare: 0.5, Sessions: 9},
		{ID: "b", FamilyShare: 0.7, Sessions: 1, CertifiedPer1000: rate(2.5)},
	}
	for by, want := range map[string]string{ByFamilies: "bac", BySessions: "acb", ByCertified: "bca"} {
		Rank(rows, by)
		got := ""
		for i, r := range rows {
			got += r.ID
			if r.Rank != i+1 {
				t.Errorf("by %s: %s ranked %d at %d", by, r.ID, r.Rank, i+1)
			}
		}
		if got != want {
			t.Errorf("by %s: %s, want %s", by, got, want)
		}
	}
}

// Periods begin in Vietnam's time: a Monday's week, a month's first day.
func TestPeriodStart(t *testing.T) {
	// Sunday 2026-12-06 23:30 in Vietnam is 16:30 UTC.
	now := time.Date(2026, 12, 6, 16, 30, 0, 0, time.UTC)
	if got, want := PeriodStart(gamify.PeriodWeek, now), time.Date(2026, 11, 30, 0, 0, 0, 0, gamify.Vietnam); !got.Equal(want) {
		t.Errorf("week: %v, want %v", got, want)
	}
	// 2026-11-30 17:30 UTC is 1 December 00:30 in Vietnam.
	if got, want := PeriodStart(gamify.PeriodMonth, time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC)), time.Date(2026, 12, 1, 0, 0, 0, 0, gamify.Vietnam); !got.Equal(want) {
		t.Errorf("month: %v, want %v", got, want)
	}
}
