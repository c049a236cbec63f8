package people_test

import (
	"context"
	"errors"
	"testing"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/people"
	"daisuso/store/storetest"
)

func ptr[T any](v T) *T { return &v }

var admin = people.Actor{UserID: "root", Role: people.RoleAdmin}

// registry is a registry on a fresh store with Lào Cai's union and one of
// its communes' (Mường Hum, 02728).
func registry(t *testing.T) (*people.Service, people.Branch) {
	t.Helper()
	ctx := context.Background()
	s := people.New(people.Config{DB: storetest.Mongo(t)})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	prov, err := s.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindProvince, ProvinceCode: "15"})
	if err != nil {
		t.Fatal(err)
	}
	commune, err := s.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindCommune, ParentID: prov.ID, CommuneCode: "02728"})
	if err != nil {
		t.Fatal(err)
	}
	return s, commune
}

func ruleCode(err error) string {
	var rule *errs.RuleError
	if errors.As(err, &rule) {
		return rule.Code
	}
	var conflict *errs.ConflictError
	if errors.As(err, &conflict) {
		return conflict.Reason
	}
	return ""
}

// Unions take the official units' codes: a commune of the province, once;
// they are named by the official list.
func TestUnionsAreOfficialUnits(t *testing.T) {
	s, commune := registry(t)
	ctx := context.Background()
	if commune.OfficialName(s.Units()) != "Xã Mường Hum" || commune.ProvinceCode != "15" {
		t.Fatalf("Mường Hum's union: %q in %s", commune.OfficialName(s.Units()), commune.ProvinceCode)
	}
	for code, want := range map[string]string{
		"02728": "code_taken",                // one union per commune
		"99999": "unknown_commune_code",      // not in the list
		"00004": "commune_of_other_province", // Ba Đình, in Hà Nội
	} {
		_, err := s.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindCommune, ParentID: commune.ParentID, CommuneCode: code})
		if got := ruleCode(err); got != want {
			t.Errorf("a union for %s: %v (%q), want %s", code, err, got, want)
		}
	}
}

// A volunteer is placed in the commune their location lies in; one who
// lives in the next commune is kept and flagged for the desk, one outside
// Vietnam is refused, and a province's union is no branch to join.
func TestVolunteersAreLocated(t *testing.T) {
	s, commune := registry(t)
	ctx := context.Background()
	register := func(id string, at geo.Point, branch string) (people.Volunteer, error) {
		return s.RegisterVolunteer(ctx, people.Actor{UserID: id}, people.VolunteerInput{Name: ptr("Lò Thị Mai"),
			Phone: ptr("0912 345 001"), BranchID: &branch, Location: &at, Topics: &[]string{"vneid"}, Consents: &[]string{"matching"}})
	}
	home, _ := s.Units().InsidePoint("02728")
	v, err := register("mai", home, commune.ID)
	if err != nil || v.OutsideCommune() || v.CommuneCode != "02728" {
		t.Fatalf("at home: %+v, %v", v, err)
	}
	next, _ := s.Units().InsidePoint("02725") // Bản Xèo
	v, err = register("lan", next, commune.ID)
	if err != nil || !v.OutsideCommune() || v.LocatedCode != "02725" {
		t.Fatalf("in the next commune: outside %v, located %q, %v", v.OutsideCommune(), v.LocatedCode, err)
	}
	if _, err := register("vte", geo.Point{Lat: 17.9757, Lng: 102.6331}, commune.ID); err == nil { // Vientiane
		t.Fatal("a volunteer in Vientiane was registered")
	}
	if _, err := register("hoa", home, commune.ParentID); ruleCode(err) != "branch_below_province" {
		t.Fatalf("a volunteer of the province's union: %v", err)
	}
}

// A household is matched only with its consent, and a member under 16
// needs a guardian's.
func TestHouseholdsNeedConsent(t *testing.T) {
	s, commune := registry(t)
	ctx := context.Background()
	home, _ := s.Units().InsidePoint("02728")
	register := func(id string, m people.Member, consents []string) error {
		_, err := s.RegisterHousehold(ctx, people.Actor{UserID: id}, people.HouseholdInput{CommuneID: &commune.ID, Location: &home,
			Members: &[]people.Member{m}, Consents: &consents})
		return err
	}
	adult := people.Member{Name: "Giàng A Páo", BirthYear: 1960, Needs: []string{"vneid"}, SelfConsent: true}
	if err := register("h1", adult, []string{}); ruleCode(err) != "matching_consent_required" {
		t.Fatalf("without consent: %v", err)
	}
	child := people.Member{Name: "Giàng A Tú", BirthYear: 2018, Needs: []string{"vneid"}}
	if err := register("h2", child, []string{"matching"}); ruleCode(err) == "" {
		t.Fatalf("a child without a guardian: %v", err)
	}
	if err := register("h3", adult, []string{"matching"}); err != nil {
		t.Fatal(err)
	}
}
