package api

import (
	"time"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/people"
)

// JSON shapes of the registry: branches, volunteers and households.

type locationJSON struct {
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

// point turns a location into a geo.Point; both numbers are required.
func (l *locationJSON) point() (*geo.Point, error) {
	if l == nil {
		return nil, nil
	}
	if l.Lat == nil || l.Lng == nil {
		return nil, &errs.FieldError{Field: "location", Reason: "lat_and_lng_required"}
	}
	return &geo.Point{Lat: *l.Lat, Lng: *l.Lng}, nil
}

type consentJSON struct {
	Purpose    string    `json:"purpose"`
	GivenAt    time.Time `json:"given_at"`
	RecordedBy string    `json:"recorded_by"`
}

func toConsentJSON(cs []people.Consent) []consentJSON {
	out := make([]consentJSON, len(cs))
	for i, c := range cs {
		out[i] = consentJSON(c)
	}
	return out
}

// ---- branches ----

type branchRequest struct {
	Kind         string `json:"kind" enum:"province,commune,branch,tech_team"`
	Name         string `json:"name" doc:"A branch's or team's name; a province or commune union is named by the official list from its code."`
	ParentID     string `json:"parent_id,omitempty"`
	ProvinceCode string `json:"province_code,omitempty"`
	CommuneCode  string `json:"commune_code,omitempty"`
	// Targets of a technology team (tech_team only), as PUT
	// /v1/branches/:id/targets takes them.
	Targets *teamTargetsRequest `json:"targets,omitempty"`
}

type teamTargetsRequest struct {
	Period     string         `json:"period,omitempty" enum:"month,campaign" doc:"month (default): each calendar month; campaign: the window of campaign_id."`
	CampaignID string         `json:"campaign_id,omitempty"`
	Values     map[string]int `json:"values" doc:"people_supported, sessions, problems_solved, vneid_activated, epayment_setup: 0 to 1,000,000 each."`
}

func (r teamTargetsRequest) targets(teamID string) people.TeamTargets {
	period := r.Period
	if period == "" {
		period = people.TargetPerMonth
	}
	return people.TeamTargets{TeamID: teamID, Period: period, CampaignID: r.CampaignID, Values: r.Values}
}

type teamTargetsJSON struct {
	TeamID     string         `json:"team_id"`
	Period     string         `json:"period"`
	CampaignID string         `json:"campaign_id,omitempty"`
	Values     map[string]int `json:"values"`
	SetAt      time.Time      `json:"set_at"`
}

type branchJSON struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Name         string    `json:"name"`
	ParentID     string    `json:"parent_id,omitempty"`
	Ancestors    []string  `json:"ancestors"`
	ProvinceCode string    `json:"province_code"`
	ProvinceName string    `json:"province_name,omitempty" doc:"Official name of the province, from the list of units."`
	CommuneCode  string    `json:"commune_code,omitempty"`
	CommuneName  string    `json:"commune_name,omitempty" doc:"Official name of the commune, ward or special zone."`
	UnitKind     string    `json:"unit_kind,omitempty" enum:"city,province,xa,phuong,dac_khu" doc:"Official kind of a province's or commune's unit."`
	UnitKindName string    `json:"unit_kind_name,omitempty" doc:"The kind in words: Thành phố, Tỉnh, Xã, Phường, Đặc khu."`
	CreatedAt    time.Time `json:"created_at"`
}

func toBranchJSON(b people.Branch, u *geo.Units) branchJSON {
	anc := b.Ancestors
	if anc == nil {
		anc = []string{}
	}
	j := branchJSON{ID: b.ID, Kind: string(b.Kind), Name: b.OfficialName(u), ParentID: b.ParentID, Ancestors: anc,
		ProvinceCode: b.ProvinceCode, CommuneCode: b.CommuneCode, UnitKind: b.UnitKind, UnitKindName: geo.KindLabel(b.UnitKind),
		CreatedAt: b.CreatedAt}
	j.ProvinceName, j.CommuneName = u.FullNames(b.ProvinceCode, b.CommuneCode)
	return j
}

// placeJSON says where a record's location lies when that is not its own
// commune: the desk sees it (people.Household.OutsideCommune).
type placeJSON struct {
	OutsideCommune     bool   `json:"outside_commune"`
	LocatedCommuneCode string `json:"located_commune_code,omitempty"`
	LocatedCommuneName string `json:"located_commune_name,omitempty"`
	ProvinceName       string `json:"province_name,omitempty"`
	CommuneName        string `json:"commune_name,omitempty"`
}

func toPlaceJSON(u *geo.Units, province, commune, located string) placeJSON {
	j := placeJSON{OutsideCommune: located != "" && located != commune}
	j.ProvinceName, j.CommuneName = u.FullNames(province, commune)
	if j.OutsideCommune {
		j.LocatedCommuneCode = located
		_, j.LocatedCommuneName = u.FullNames("", located)
	}
	return j
}

type branchList struct {
	Items      []branchJSON `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// ---- volunteers ----

type slotJSON struct {
	Day  int    `json:"day" minimum:"1" maximum:"7" doc:"1 is Monday, 7 Sunday."`
	From string `json:"from" doc:"HH:MM, local time (Asia/Ho_Chi_Minh), before to."`
	To   string `json:"to" doc:"HH:MM, local time."`
}

// volunteerRequest is both the registration (POST) and the update (PATCH):
// fields left out are not changed.
type volunteerRequest struct {
	Name         *string       `json:"name,omitempty" doc:"Full name, 1 to 100 letters (Vietnamese diacritics welcome), spaces and - ' . ,"`
	Phone        *string       `json:"phone,omitempty" doc:"A Vietnamese mobile number: 0912 345 678 or +84 912 345 678."`
	BranchID     *string       `json:"branch_id,omitempty"`
	Location     *locationJSON `json:"location,omitempty" doc:"Home, as lat and lng; kept only as an H3 cell."`
	RadiusKm     *float64      `json:"radius_km,omitempty" minimum:"0.5" maximum:"15" doc:"How far the volunteer travels, km (default 2)."`
	Languages    *[]string     `json:"languages,omitempty" enum:"@languages"`
	Topics       *[]string     `json:"topics,omitempty" enum:"@topics"`
	Capacity     *int          `json:"capacity,omitempty" minimum:"5" maximum:"20" doc:"Learners taken at most (default 10; 1 kèm 5 is at least five)."`
	Availability *[]slotJSON   `json:"availability,omitempty"`
	Paused       *bool         `json:"paused,omitempty"`
	Consents     *[]string     `json:"consents,omitempty" enum:"@consents" doc:"Purposes agreed to: matching, reminders, public_ranking (shown on the boards)."`
}

func (r *volunteerRequest) input() (people.VolunteerInput, error) {
	p, err := r.Location.point()
	if err != nil {
		return people.VolunteerInput{}, err
	}
	in := people.VolunteerInput{Name: r.Name, Phone: r.Phone, BranchID: r.BranchID, Location: p, RadiusKm: r.RadiusKm,
		Languages: r.Languages, Topics: r.Topics, Capacity: r.Capacity, Paused: r.Paused, Consents: r.Consents}
	if r.Availability != nil {
		slots := make([]people.Slot, len(*r.Availability))
		for i, s := range *r.Availability {
			slots[i] = people.Slot(s)
		}
		in.Availability = &slots
	}
	return in, nil
}

type volunteerJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	PhoneMasked  bool   `json:"phone_masked"`
	BranchID     string `json:"branch_id"`
	CommuneID    string `json:"commune_id"`
	ProvinceCode string `json:"province_code"`
	CommuneCode  string `json:"commune_code"`
	placeJSON
	Cell         string      `json:"cell"`
	RadiusKm     float64     `json:"radius_km"`
	Languages    []string    `json:"languages"`
	Topics       []string    `json:"topics"`
	Capacity     int         `json:"capacity"`
	Availability []slotJSON  `json:"availability"`
	Paused       bool        `json:"paused"`
	PausedAt     *time.Time  `json:"paused_at,omitempty"`
	Pauses       []pauseJSON `json:"pauses"`
	// StreakWeeks: weeks in a row with a confirmed session, a week mostly
	// paused neither counting nor breaking it (profile reads only).
	StreakWeeks *int          `json:"streak_weeks,omitempty"`
	Consents    []consentJSON `json:"consents"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

type pauseJSON struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to,omitempty"`
}

func toVolunteerJSON(v people.Volunteer, fullPhone bool, u *geo.Units) volunteerJSON {
	slots := make([]slotJSON, len(v.Availability))
	for i, s := range v.Availability {
		slots[i] = slotJSON(s)
	}
	j := volunteerJSON{ID: v.ID, Name: v.Name, Phone: v.Phone, BranchID: v.BranchID, CommuneID: v.CommuneID,
		ProvinceCode: v.ProvinceCode, CommuneCode: v.CommuneCode, Cell: v.Cell.String(), RadiusKm: v.RadiusKm,
		Languages: v.Languages, Topics: v.Topics, Capacity: v.Capacity, Availability: slots, Paused: v.Paused,
		Consents: toConsentJSON(v.Consents), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		placeJSON: toPlaceJSON(u, v.ProvinceCode, v.CommuneCode, v.LocatedCode)}
	if !fullPhone {
		j.Phone, j.PhoneMasked = people.MaskPhone(v.Phone), true
	}
	if !v.PausedAt.IsZero() {
		t := v.PausedAt
		j.PausedAt = &t
	}
	j.Pauses = []pauseJSON{}
	for _, p := range v.Pauses {
		pj := pauseJSON{From: p.From}
		if !p.To.IsZero() {
			pj.To = &p.To
		}
		j.Pauses = append(j.Pauses, pj)
	}
	return j
}

// ---- households ----

type memberJSON struct {
	Name          string   `json:"name" doc:"1 to 100 letters (Vietnamese diacritics welcome), spaces and - ' . ,"`
	BirthYear     int      `json:"birth_year" minimum:"1900" doc:"Up to this year; a child under 16 needs guardian_name, one from 7 self_consent too."`
	Needs         []string `json:"needs" enum:"@topics" doc:"What the member wants to learn; a member with none cannot be in a help request."`
	Accessibility []string `json:"accessibility" enum:"@accessibility"`
	Language      string   `json:"language,omitempty" enum:"@languages"`
	HasSmartphone bool     `json:"has_smartphone"`
	SelfConsent   bool     `json:"self_consent"`
	GuardianName  string   `json:"guardian_name,omitempty"`
}

type householdRequest struct {
	CommuneID    *string       `json:"commune_id,omitempty"`
	Location     *locationJSON `json:"location,omitempty"`
	ContactPhone *string       `json:"contact_phone,omitempty"`
	Members      *[]memberJSON `json:"members,omitempty"`
	Consents     *[]string     `json:"consents,omitempty" enum:"@consents"`
}

func (r *householdRequest) input() (people.HouseholdInput, error) {
	p, err := r.Location.point()
	if err != nil {
		return people.HouseholdInput{}, err
	}
	in := people.HouseholdInput{CommuneID: r.CommuneID, Location: p, ContactPhone: r.ContactPhone, Consents: r.Consents}
	if r.Members != nil {
		ms := make([]people.Member, len(*r.Members))
		for i, m := range *r.Members {
			ms[i] = people.Member{Name: m.Name, BirthYear: m.BirthYear, Needs: m.Needs, Accessibility: m.Accessibility,
				Language: m.Language, HasSmartphone: m.HasSmartphone, SelfConsent: m.SelfConsent, GuardianName: m.GuardianName}
		}
		in.Members = &ms
	}
	return in, nil
}

type householdJSON struct {
	ID           string `json:"id"`
	CommuneID    string `json:"commune_id"`
	ProvinceCode string `json:"province_code"`
	CommuneCode  string `json:"commune_code"`
	placeJSON
	Cell             string        `json:"cell"`
	ContactPhone     string        `json:"contact_phone,omitempty"`
	PhoneMasked      bool          `json:"phone_masked"`
	Members          []memberJSON  `json:"members"`
	Consents         []consentJSON `json:"consents"`
	RegisteredBy     string        `json:"registered_by"`
	RegisteredByRole string        `json:"registered_by_role"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
}

func toHouseholdJSON(h people.Household, fullPhone bool, u *geo.Units) householdJSON {
	ms := make([]memberJSON, len(h.Members))
	for i, m := range h.Members {
		ms[i] = memberJSON{Name: m.Name, BirthYear: m.BirthYear, Needs: m.Needs, Accessibility: m.Accessibility,
			Language: m.Language, HasSmartphone: m.HasSmartphone, SelfConsent: m.SelfConsent, GuardianName: m.GuardianName}
	}
	j := householdJSON{ID: h.ID, CommuneID: h.CommuneID, ProvinceCode: h.ProvinceCode, CommuneCode: h.CommuneCode,
		Cell: h.Cell.String(), ContactPhone: h.ContactPhone, Members: ms, Consents: toConsentJSON(h.Consents),
		RegisteredBy: h.RegisteredBy, RegisteredByRole: string(h.RegisteredByRole), CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt,
		placeJSON: toPlaceJSON(u, h.ProvinceCode, h.CommuneCode, h.LocatedCode)}
	if !fullPhone && h.ContactPhone != "" {
		j.ContactPhone, j.PhoneMasked = people.MaskPhone(h.ContactPhone), true
	}
	return j
}

type exportJSON struct {
	Kind       string         `json:"kind"`
	ExportedAt time.Time      `json:"exported_at"`
	Volunteer  *volunteerJSON `json:"volunteer,omitempty"`
	Household  *householdJSON `json:"household,omitempty"`
	User       *userJSON      `json:"user,omitempty"`
	Other      map[string]any `json:"other"`
}

func toExportJSON(e people.Export, u *geo.Units) exportJSON {
	j := exportJSON{Kind: e.Kind, ExportedAt: e.ExportedAt, Other: map[string]any{}}
	for holder, data := range e.Other {
		j.Other[holder] = exportValue(data)
	}
	if e.Volunteer != nil {
		v := toVolunteerJSON(*e.Volunteer, true, u)
		j.Volunteer = &v
	}
	if e.Household != nil {
		h := toHouseholdJSON(*e.Household, true, u)
		j.Household = &h
	}
	if e.User != nil {
		u := toUserJSON(*e.User)
		j.User = &u
	}
	return j
}
