package people

import (
	"context"
	"fmt"
	"time"

	"daisuso/errs"
)

// Population is a commune's official figures (from the commune's
// statistics, not from registrations): how many people live there and in
// how many households, and the year the figures are of. Per-resident rates
// divide by it; a commune without it has no such rate.
type Population struct {
	CommuneCode string
	Residents   int
	Households  int
	Year        int
	SetBy       string
	SetAt       time.Time
}

// Bounds of the figures: the largest wards have a few hundred thousand
// people; figures older than the 2019 census are not current.
const (
	maxResidents       = 2_000_000
	minPopulationYear  = 2019
	populationsPerRead = 5_000 // more than the 3,321 communes
)

// SetPopulation records a commune's figures, replacing those it had. The
// commune union's admins and the province union's admins set them.
func (s *Service) SetPopulation(ctx context.Context, a Actor, communeID string, p Population) (Population, error) {
	year := s.now().In(vietnam).Year()
	switch {
	case p.Residents < 1 || p.Residents > maxResidents:
		return Population{}, &errs.FieldError{Field: "residents", Reason: "out_of_range"}
	case p.Households < 1 || p.Households > p.Residents:
		return Population{}, &errs.FieldError{Field: "households", Reason: "out_of_range"}
	case p.Year < minPopulationYear || p.Year > year:
		return Population{}, &errs.FieldError{Field: "year", Reason: "out_of_range"}
	}
	commune, err := s.Branch(ctx, communeID)
	if err != nil {
		return Population{}, err
	}
	if commune.Kind != KindCommune {
		return Population{}, &errs.RuleError{Code: "not_a_commune", Field: "id"}
	}
	if err := s.unionAdmin(ctx, a, commune.Scope()); err != nil {
		return Population{}, err
	}
	p.CommuneCode, p.SetBy, p.SetAt = commune.CommuneCode, a.UserID, s.now().UTC().Truncate(time.Second)
	d := populationDoc{ID: p.CommuneCode, Residents: p.Residents, Households: p.Households, Year: p.Year, SetBy: p.SetBy, SetAt: p.SetAt}
	if err := putDoc(ctx, s.populations, d.ID, d); err != nil {
		return Population{}, fmt.Errorf("set population: %w", err)
	}
	return p, nil
}

// Populations returns the figures of every commune that has them, by
// official code.
func (s *Service) Populations(ctx context.Context) (map[string]Population, error) {
	docs, err := allDocs[populationDoc](ctx, s.populations, populationsPerRead)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Population, len(docs))
	for _, d := range docs {
		out[d.ID] = Population{CommuneCode: d.ID, Residents: d.Residents, Households: d.Households, Year: d.Year, SetBy: d.SetBy, SetAt: d.SetAt}
	}
	return out, nil
}
