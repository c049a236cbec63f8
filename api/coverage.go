package api

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/people"
)

// publicMinHouseholds: the public map hides cells with fewer households, so
// that no count points at a family.
const publicMinHouseholds = 5

type geoJSON struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
}

type feature struct {
	Type       string        `json:"type"`
	Geometry   geometry      `json:"geometry"`
	Properties coverageProps `json:"properties"`
}

type geometry struct {
	Type        string         `json:"type"`
	Coordinates [][][2]float64 `json:"coordinates"`
}

type coverageProps struct {
	Cell            string `json:"cell"`
	Households      int    `json:"households"`
	Certified       int    `json:"certified_households"` // Gia đình số: a member certified
	LearnersWaiting int    `json:"learners_waiting"`
	Mentors         int    `json:"mentors"`
	FreeCapacity    int    `json:"free_capacity"`
	// The commune whose outline holds the cell's centre, by the official
	// list: a hexagon is named by its commune, not its H3 id.
	CommuneCode string `json:"commune_code,omitempty"`
	CommuneName string `json:"commune_name,omitempty"`
}

// coverage builds the GeoJSON of an area's cells at res; only, when set,
// keeps the cells it holds.
func (a *API) coverage(c *fiber.Ctx, communes []string, res int, public bool, only map[geo.Cell]bool) error {
	ctx := c.UserContext()
	hh, err := a.deps.People.HouseholdCells(ctx, communes)
	if err != nil {
		return err
	}
	counts, err := a.deps.Matching.Coverage(ctx, communes, res)
	if err != nil {
		return err
	}
	families, err := a.deps.Sessions.FamiliesIn(ctx, communes)
	if err != nil {
		return err
	}
	households, certified := map[geo.Cell]int{}, map[geo.Cell]int{}
	for id, cell := range hh {
		if p, err := cell.Parent(res); err == nil {
			households[p]++
			if families[id] {
				certified[p]++
			}
			if counts[p] == nil {
				counts[p] = &matching.CellCounts{}
			}
		}
	}
	out := geoJSON{Type: "FeatureCollection", Features: []feature{}}
	for cell, cc := range counts {
		if public && households[cell] < publicMinHouseholds || only != nil && !only[cell] {
			continue
		}
		ring := [][2]float64{}
		for _, p := range cell.Boundary() {
			ring = append(ring, [2]float64{round6(p.Lng), round6(p.Lat)})
		}
		ring = append(ring, ring[0])
		props := coverageProps{Cell: cell.String(), Households: households[cell], Certified: certified[cell], LearnersWaiting: cc.LearnersWaiting,
			Mentors: cc.Mentors, FreeCapacity: cc.FreeCapacity}
		if pl, ok := a.units().Placed(cell.Center()); ok {
			props.CommuneCode = pl.CommuneCode
			_, props.CommuneName = a.units().FullNames("", pl.CommuneCode)
		}
		out.Features = append(out.Features, feature{Type: "Feature",
			Geometry: geometry{Type: "Polygon", Coordinates: [][][2]float64{ring}}, Properties: props})
	}
	sort.Slice(out.Features, func(i, j int) bool { return out.Features[i].Properties.Cell < out.Features[j].Properties.Cell })
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	return c.Send(body)
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func coverageRes(c *fiber.Ctx) (int, error) {
	switch s := c.Query("res", "8"); s {
	case "7", "8":
		n, _ := strconv.Atoi(s)
		return n, nil
	}
	return 0, &errs.FieldError{Field: "res", Reason: "must_be_7_or_8"}
}

// getCoverage: the map of an admin's area (?commune_id= or ?branch_id=).
func (a *API) getCoverage(c *fiber.Ctx) error {
	res, err := coverageRes(c)
	if err != nil {
		return err
	}
	communes, err := a.queryArea(c)
	if err != nil {
		return err
	}
	return a.coverage(c, communes, res, false, nil)
}

// queryArea reads ?commune_id= or ?branch_id= (one of them) and returns the
// communes of that node, which the caller must administer (404 otherwise).
func (a *API) queryArea(c *fiber.Ctx) ([]string, error) {
	commune, branch := c.Query("commune_id"), c.Query("branch_id")
	if (commune == "") == (branch == "") {
		return nil, &errs.FieldError{Field: "commune_id", Reason: "one_of_commune_id_branch_id"}
	}
	return a.deps.People.CommunesAdministered(c.UserContext(), actorOf(c), string([]byte(commune+branch)))
}

// publicCoverage: the same map for anyone, at resolution 7 only, without
// cells of fewer than five households.
func (a *API) publicCoverage(c *fiber.Ctx) error {
	commune, province := c.Query("commune_id"), c.Query("province_id")
	if (commune == "") == (province == "") {
		return &errs.FieldError{Field: "commune_id", Reason: "one_of_commune_id_province_id"}
	}
	node := string([]byte(commune + province))
	ctx := c.UserContext()
	communes, err := a.deps.People.CommunesUnder(ctx, node)
	if err != nil {
		return err
	}
	// A cell's public figures are the same whichever area asks for it:
	// counted over the whole province, then only the area's cells kept.
	// Counted over the area alone, a cell across a commune border showed
	// the commune's part in one map and the whole in the province's, and
	// one minus the other gave away a part of fewer than five households.
	b, err := a.deps.People.Branch(ctx, node)
	if err != nil {
		return err
	}
	if b.Kind == people.KindProvince || len(b.Ancestors) == 0 {
		return a.coverage(c, communes, 7, true, nil)
	}
	all, err := a.deps.People.CommunesUnder(ctx, b.Ancestors[0])
	if err != nil {
		return err
	}
	area, err := a.cellsOf(c, communes, 7)
	if err != nil {
		return err
	}
	return a.coverage(c, all, 7, true, area)
}

// cellsOf are the cells at res where an area's communes have households,
// mentors or waiting requests.
func (a *API) cellsOf(c *fiber.Ctx, communes []string, res int) (map[geo.Cell]bool, error) {
	ctx := c.UserContext()
	out := map[geo.Cell]bool{}
	hh, err := a.deps.People.HouseholdCells(ctx, communes)
	if err != nil {
		return nil, err
	}
	for _, cell := range hh {
		if p, err := cell.Parent(res); err == nil {
			out[p] = true
		}
	}
	counts, err := a.deps.Matching.Coverage(ctx, communes, res)
	if err != nil {
		return nil, err
	}
	for cell := range counts {
		out[cell] = true
	}
	return out, nil
}
