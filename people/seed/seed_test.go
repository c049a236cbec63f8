package seed

import (
	"context"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/geo"
	"daisuso/people"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestGenerateIsPlausible(t *testing.T) {
	p := Generate(Config{Seed: 7, Households: 5000})
	if len(p.Households) != 5000 {
		t.Fatalf("%d households", len(p.Households))
	}
	// A real province and its real communes, a ward first.
	u := geo.EmbeddedUnits()
	if p.ProvinceCode != "11" || p.ProvinceName != "Tỉnh Điện Biên" || len(p.Communes) != 6 {
		t.Fatalf("province %s %q with %d communes", p.ProvinceCode, p.ProvinceName, len(p.Communes))
	}
	for i, c := range p.Communes {
		unit, ok := u.Commune(c.Code)
		if !ok || unit.ProvinceCode != "11" || unit.FullName != c.Name || (i == 0 && unit.Kind != "phuong") {
			t.Fatalf("commune %d: %+v, official %+v", i, c, unit)
		}
	}
	for _, v := range p.Volunteers {
		if code, _ := u.Locate(v.Point); code != p.Communes[v.Commune].Code {
			t.Fatalf("volunteer at %v is in %q, not in %s", v.Point, code, p.Communes[v.Commune].Code)
		}
	}
	if r := float64(len(p.Households)) / float64(len(p.Volunteers)); r < 15 || r > 25 {
		t.Errorf("%.1f households per volunteer, want about 20", r)
	}
	langs := map[string]int{}
	ages := map[string]int{}
	members := 0
	for _, h := range p.Households {
		if code, _ := u.Locate(h.Point); code != p.Communes[h.Commune].Code {
			t.Fatalf("household at %v is in %q, not in its commune %s", h.Point, code, p.Communes[h.Commune].Code)
		}
		for _, m := range h.Members {
			members++
			langs[m.Language]++
			switch age := year - m.BirthYear; {
			case age < 16:
				ages["child"]++
				if m.GuardianName == "" {
					t.Fatalf("child without guardian: %+v", m)
				}
			case age >= 60:
				ages["elderly"]++
			default:
				ages["adult"]++
			}
		}
	}
	if m := float64(members) / 5000; m < 2 || m > 5 {
		t.Errorf("%.1f members per household", m)
	}
	if langs["vi"] == 0 || langs["hmn"]+langs["ium"] == 0 || langs["tay"]+langs["tha"] == 0 {
		t.Errorf("want Vietnamese, highland and lowland minority languages: %v", langs)
	}
	minority := members - langs["vi"]
	if minority < members/10 {
		t.Errorf("only %d of %d members speak a minority language", minority, members)
	}
	if ages["child"] == 0 || ages["elderly"] == 0 || ages["adult"] == 0 {
		t.Errorf("ages %v", ages)
	}
	if !reflect.DeepEqual(Generate(Config{Seed: 7, Households: 300}), Generate(Config{Seed: 7, Households: 300})) {
		t.Error("the same seed gave two plans")
	}
}

// TestWriteThroughTheRegistry writes a small province through
// people.Service into a real store and reads it back.
func TestWriteThroughTheRegistry(t *testing.T) {
	db := storetest.Mongo(t)
	svc := people.New(people.Config{DB: db})
	p := Generate(Config{Seed: 3, Households: 120, Communes: 3})
	sum, err := Write(context.Background(), svc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Households != 120 || sum.Volunteers != len(p.Volunteers) || sum.Branches < 1+3*3 {
		t.Fatalf("%+v", sum)
	}
	n, err := db.Collection("households").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 120 {
		t.Fatalf("%d households stored (err %v)", n, err)
	}
	u, err := svc.User(context.Background(), "demo-commune-"+p.Communes[1].Code)
	if err != nil || u.Role != people.RoleBranchAdmin {
		t.Fatalf("demo admin %+v %v", u, err)
	}
}
