package api

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/programme"
)

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

// coverageGeoJSON writes the cells as GeoJSON polygons.
func coverageGeoJSON(c *fiber.Ctx, cells []programme.CoverageCell) error {
	out := geoJSON{Type: "FeatureCollection", Features: []feature{}}
	for _, x := range cells {
		ring := [][2]float64{}
		for _, p := range x.Cell.Boundary() {
			ring = append(ring, [2]float64{round6(p.Lng), round6(p.Lat)})
		}
		ring = append(ring, ring[0])
		out.Features = append(out.Features, feature{Type: "Feature",
			Geometry: geometry{Type: "Polygon", Coordinates: [][][2]float64{ring}},
			Properties: coverageProps{Cell: x.Cell.String(), Households: x.Households, Certified: x.Certified,
				LearnersWaiting: x.LearnersWaiting, Mentors: x.Mentors, FreeCapacity: x.FreeCapacity,
				CommuneCode: x.CommuneCode, CommuneName: x.CommuneName}})
	}
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
	cells, err := a.deps.Programme.Coverage(c.UserContext(), communes, res)
	if err != nil {
		return err
	}
	return coverageGeoJSON(c, cells)
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

// publicCoverage: the same map for anyone (programme.PublicCoverage).
func (a *API) publicCoverage(c *fiber.Ctx) error {
	commune, province := c.Query("commune_id"), c.Query("province_id")
	if (commune == "") == (province == "") {
		return &errs.FieldError{Field: "commune_id", Reason: "one_of_commune_id_province_id"}
	}
	cells, err := a.deps.Programme.PublicCoverage(c.UserContext(), string([]byte(commune+province)))
	if err != nil {
		return err
	}
	return coverageGeoJSON(c, cells)
}
