package people

import (
	"context"
	"errors"
	"testing"
	"time"

	"daisuso/geo"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestPhoneClaims: a claim left behind by a registration that died before
// writing its household blocks the phone only for claimGrace; a claim
// whose household holds the phone is never taken; registering again does
// not drop the phone of the household registered before.
func TestPhoneClaims(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := NewService(storetest.Mongo(t), func() time.Time { return now })
	admin := Actor{UserID: "root", Role: RoleAdmin}
	prov, err := s.CreateBranch(ctx, admin, NewBranch{Kind: KindProvince, Name: "Tỉnh đoàn Lào Cai", ProvinceCode: "10"})
	if err != nil {
		t.Fatal(err)
	}
	commune, err := s.CreateBranch(ctx, admin, NewBranch{Kind: KindCommune, Name: "Đoàn xã Mường Hum", ParentID: prov.ID, CommuneCode: "02839"})
	if err != nil {
		t.Fatal(err)
	}
	register := func(a Actor, phone string) (Household, error) {
		members := []Member{{Name: "Lý Thị Hoa", BirthYear: 1985, SelfConsent: true}}
		return s.RegisterHousehold(ctx, a, HouseholdInput{CommuneID: &commune.ID, Location: &geo.Point{Lat: 22.53, Lng: 103.76},
			ContactPhone: &phone, Members: &members, Consents: &[]string{"matching"}})
	}
	phoneTaken := func(err error) bool {
		var c *ConflictError
		return errors.As(err, &c) && c.Reason == "phone_taken"
	}

	// A registration that claimed the phone and died.
	if err := s.claims.claim(ctx, "phone:h:+84981234567", "hh_ghost"); err != nil {
		t.Fatal(err)
	}
	if _, err := register(admin, "0981234567"); !phoneTaken(err) {
		t.Fatalf("within the grace: %v, want phone_taken", err)
	}
	now = now.Add(claimGrace + time.Second)
	h, err := register(admin, "0981234567")
	if err != nil {
		t.Fatalf("after the grace: %v", err)
	}
	// The phone is now the household's for good.
	now = now.Add(time.Hour)
	if _, err := register(admin, "0981234567"); !phoneTaken(err) {
		t.Fatalf("a held phone: %v, want phone_taken", err)
	}
	var d claimDoc
	if err := findByID(ctx, s.claims.coll, "phone:h:+84981234567", &d); err != nil || d.Owner != h.ID {
		t.Fatalf("claim %+v (%v), want owner %s", d, err, h.ID)
	}

	// Registering oneself twice keeps the first registration's phone.
	self := Actor{UserID: "uid-self"}
	if _, err := register(self, "0987654321"); err != nil {
		t.Fatal(err)
	}
	var c *ConflictError
	if _, err := register(self, "0987654321"); !errors.As(err, &c) || c.Reason != "already_registered" {
		t.Fatalf("second self-registration: %v", err)
	}
	if err := findByID(ctx, s.claims.coll, "phone:h:+84987654321", &d); err != nil || d.Owner != "uid-self" {
		t.Fatalf("the first registration lost its phone claim: %+v %v", d, err)
	}
	if _, err := register(Actor{UserID: "someone", Role: RoleAdmin}, "0987654321"); !phoneTaken(err) {
		t.Fatalf("the phone of a registered household: %v, want phone_taken", err)
	}
}
