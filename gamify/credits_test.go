package gamify

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// campaignsIn is a campaign list as campaigns.all keeps it, with n
// campaigns of other communes running besides one of the volunteer's.
func campaignsIn(n int, now time.Time) *campaigns {
	cs := &campaigns{refresh: time.Hour, loaded: now, byScope: map[string][]Campaign{}}
	cs.list = []Campaign{allTime}
	add := func(c Campaign) {
		cs.list = append(cs.list, c)
		cs.byScope[c.Scope()] = append(cs.byScope[c.Scope()], c)
	}
	add(Campaign{ID: "mine", ScopeKind: ScopeCommune, ScopeCode: "02839", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)})
	for i := range n {
		add(Campaign{ID: fmt.Sprintf("other%d", i), ScopeKind: ScopeCommune, ScopeCode: fmt.Sprintf("%05d", i+10000),
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)})
	}
	return cs
}

// TestCreditsLookOnlyAtTheVolunteersScopes: an award is credited in the
// campaigns of its volunteer's nation, province and commune that run when
// it happened, and in no other.
func TestCreditsLookOnlyAtTheVolunteersScopes(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	cs := campaignsIn(400, now)
	cs.byScope["national"] = []Campaign{{ID: "over", ScopeKind: ScopeNational, StartsAt: now.Add(-48 * time.Hour), EndsAt: now.Add(-24 * time.Hour)}}
	e := Entry{Points: 10, At: now, Who: Who{VolunteerID: "v", ProvinceCode: "10", CommuneCode: "02839"}}
	got, err := cs.creditsOf(context.Background(), now, e)
	if err != nil || len(got) != 2 || got[0].Campaign != AllTime || got[1].Campaign != "mine" {
		t.Fatalf("credits %v %v, want the all-time campaign and the commune's", got, err)
	}
}

// BenchmarkCreditsWithManyCampaigns prints what crediting an award costs
// with 0 and 400 campaigns of other communes running.
func BenchmarkCreditsWithManyCampaigns(b *testing.B) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	e := Entry{Points: 10, At: now, Who: Who{VolunteerID: "v", ProvinceCode: "10", CommuneCode: "02839"}}
	for _, n := range []int{0, 400} {
		cs := campaignsIn(n, now)
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := cs.creditsOf(context.Background(), now, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
