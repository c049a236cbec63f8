package people

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestPhonesAreNoOracle: a phone number is a way to reach someone, not an
// identity, and is not unique: registering with a number on someone
// else's record is answered as any registration, so no answer tells
// whether a number belongs to someone; a household editing its record
// keeps its own number; no number is kept as a claim.
func TestPhonesAreNoOracle(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := New(Config{DB: storetest.Mongo(t), Now: func() time.Time { return now }})
	admin := Actor{UserID: "root", Role: RoleAdmin}
	prov, err := s.CreateBranch(ctx, admin, NewBranch{Kind: KindProvince, Name: "Tỉnh đoàn Lào Cai", ProvinceCode: "15"})
	if err != nil {
		t.Fatal(err)
	}
	commune, err := s.CreateBranch(ctx, admin, NewBranch{Kind: KindCommune, Name: "Đoàn xã Mường Hum", ParentID: prov.ID, CommuneCode: "02728"})
	if err != nil {
		t.Fatal(err)
	}
	register := func(a Actor, phone string) (Household, error) {
		members := []Member{{Name: "Lý Thị Hoa", BirthYear: 1985, Needs: []string{"vneid"}, SelfConsent: true}}
		return s.RegisterHousehold(ctx, a, HouseholdInput{CommuneID: &commune.ID, Location: &geo.Point{Lat: 22.53, Lng: 103.76},
			ContactPhone: &phone, Members: &members, Consents: &[]string{"matching"}})
	}
	// A number on another household's record is no answer to anything:
	// the registration is taken as any other.
	first, err := register(admin, "0981234567")
	if err != nil {
		t.Fatal(err)
	}
	second, err := register(Actor{UserID: "someone", Role: RoleAdmin}, "0981234567")
	if err != nil || second.ID == first.ID {
		t.Fatalf("a second household with the number: %+v %v", second, err)
	}
	// A household keeps its own number when it edits its record.
	self := Actor{UserID: "uid-self"}
	mine, err := register(self, "0987654321")
	if err != nil {
		t.Fatal(err)
	}
	phone := "0987654321"
	if _, err := s.UpdateHousehold(ctx, Actor{UserID: "uid-self", Role: RoleHousehold}, mine.ID, HouseholdInput{ContactPhone: &phone}); err != nil {
		t.Fatalf("its own number again: %v", err)
	}
	var c *errs.ConflictError
	if _, err := register(self, "0987654321"); !errors.As(err, &c) || c.Reason != "already_registered" {
		t.Fatalf("second self-registration: %v", err)
	}
	if n, err := s.claims.coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^phone:"}}}}); err != nil || n != 0 {
		t.Fatalf("%d phone numbers kept as claims (%v)", n, err)
	}
	_ = now
}
