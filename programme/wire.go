package programme

import (
	"context"

	"daisuso/gamify"
	"daisuso/matching"
	"daisuso/people"
	"daisuso/sessions"
)

// connect joins the registry and the matcher, which do not import each
// other: every saved volunteer updates the mentor index, erasing a person
// reaches their matches, and a matched mentor may see the household's
// phone.
func connect(p *people.Service, m *matching.Service, g *gamify.Service, s *sessions.Service) {
	p.AddDataHolder(g)
	p.AddDataHolder(s)
	p.OnVolunteerSaved(func(ctx context.Context, v people.Volunteer) error {
		return m.SaveMentor(ctx, MentorOf(v))
	})
	p.OnVolunteerSaved(func(ctx context.Context, v people.Volunteer) error {
		return g.SetPublicRanking(ctx, v.ID, people.HasConsent(v.Consents, "public_ranking"))
	})
	p.AddDataHolder(m)
	p.SetMentorLookup(m.MentorsOfHousehold)
}

// MentorOf is what matching knows of a volunteer: no name, no phone.
func MentorOf(v people.Volunteer) matching.Mentor {
	return matching.Mentor{ID: v.ID, CommuneID: v.CommuneID, BranchID: v.BranchID, Cell: v.Cell, RadiusKm: v.RadiusKm,
		Languages: v.Languages, Topics: v.Topics, Capacity: v.Capacity, Paused: v.Paused, PausedAt: v.PausedAt}
}
