package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/geo"
)

// The official list of units is public data: the apps pick a commune from
// it, maps draw its outlines.

type unitJSON struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	FullName     string `json:"full_name"`
	Kind         string `json:"kind" enum:"city,province,xa,phuong,dac_khu"`
	KindName     string `json:"kind_name" doc:"The kind in words: Thành phố, Tỉnh, Xã, Phường, Đặc khu."`
	ProvinceCode string `json:"province_code,omitempty"`
	Communes     int    `json:"communes,omitempty" doc:"Provinces: how many communes, wards and special zones."`
}

type unitList struct {
	Version string     `json:"version" doc:"The list's version (the date of its last change)."`
	Items   []unitJSON `json:"items"`
}

func (a *API) listProvinces(c *fiber.Ctx) error {
	u := a.units()
	out := unitList{Version: u.Version, Items: []unitJSON{}}
	for _, p := range u.Provinces() {
		out.Items = append(out.Items, unitJSON{Code: p.Code, Name: p.Name, FullName: p.FullName, Kind: p.Kind,
			KindName: geo.KindLabel(p.Kind), Communes: len(p.Communes)})
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(out)
}

func (a *API) listCommunes(c *fiber.Ctx) error {
	u := a.units()
	p, ok := u.Province(c.Params("code"))
	if !ok {
		return errs.ErrNotFound
	}
	out := unitList{Version: u.Version, Items: make([]unitJSON, 0, len(p.Communes))}
	for _, code := range p.Communes {
		cm, _ := u.Commune(code)
		out.Items = append(out.Items, unitJSON{Code: cm.Code, Name: cm.Name, FullName: cm.FullName, Kind: cm.Kind,
			KindName: geo.KindLabel(cm.Kind), ProvinceCode: p.Code})
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(out)
}

type outlineFeature struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties outlineProps    `json:"properties"`
}

type outlineProps struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Province string `json:"province_code"`
}

type outlineCollection struct {
	Type     string           `json:"type"`
	Version  string           `json:"version"`
	Features []outlineFeature `json:"features"`
}

// outlines: the commune outlines of a province (?province=) or of one
// commune (?commune=), for maps.
func (a *API) outlines(c *fiber.Ctx) error {
	u := a.units()
	province, commune := c.Query("province"), c.Query("commune")
	var codes []string
	switch {
	case (province == "") == (commune == ""):
		return &errs.FieldError{Field: "province", Reason: "one_of_province_commune"}
	case province != "":
		p, ok := u.Province(province)
		if !ok {
			return &errs.RuleError{Code: "unknown_province_code", Field: "province"}
		}
		codes = p.Communes
	default:
		if _, ok := u.Commune(commune); !ok {
			return &errs.RuleError{Code: "unknown_commune_code", Field: "commune"}
		}
		codes = []string{commune}
	}
	out := outlineCollection{Type: "FeatureCollection", Version: u.Version, Features: make([]outlineFeature, 0, len(codes))}
	for _, code := range codes {
		cm, _ := u.Commune(code)
		g, ok := u.OutlineGeoJSON(code)
		if !ok {
			continue
		}
		out.Features = append(out.Features, outlineFeature{Type: "Feature", Geometry: g,
			Properties: outlineProps{Code: code, Name: cm.FullName, Province: cm.ProvinceCode}})
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/geo+json")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(body)
}

func (a *API) unionOfCommune(c *fiber.Ctx) error {
	ctx := c.UserContext()
	code := c.Params("code")
	if _, ok := a.units().Commune(code); !ok {
		return errs.ErrNotFound
	}
	id, err := a.deps.People.CommuneByCode(ctx, code)
	if err != nil {
		return err
	}
	b, err := a.deps.People.Branch(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(toBranchJSON(b, a.units()))
}
