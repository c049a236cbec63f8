package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/geo"
	"daisuso/notify/fcmtest"
	"daisuso/store/storetest"
)

// TestDemoShowsTheProgramme: `daisuso demo` on a small province gives
// people who can sign in (volunteers, a household, commune staff and
// admins), weeks of confirmed sessions, points, badges, certified learners
// and an active campaign with targets, and its figures agree with its data.
func TestDemoShowsTheProgramme(t *testing.T) {
	storetest.Long(t)
	fcm := fcmtest.New()
	defer fcm.Close()
	env := sharedStores(t, fcm)
	env[childArgs], env["DEMO_HOUSEHOLDS"] = "demo", "250"
	c := startChild(t, env)
	tok := func(user string) string {
		return c.token(user, "", "")
	}
	get := func(path, token string) map[string]any {
		t.Helper()
		res := call(t, http.MethodGet, c.base+path, "", token)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		return jsonOf(t, res)
	}
	for user, role := range map[string]string{"demo-vol-0001": "volunteer", "demo-hh-1": "household", "demo-staff-03127": "commune_staff",
		"demo-commune-03127": "branch_admin"} {
		if me := get("/v1/me", tok(user)); me["role"] != role {
			t.Errorf("%s signs in as %v, want %s", user, me["role"], role)
		}
	}

	client, err := mongo.Connect(options.Client().ApplyURI(env["MONGODB_URI"]))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database(env["MONGODB_DATABASE"])
	count := func(coll string, filter bson.D) int {
		n, err := db.Collection(coll).CountDocuments(context.Background(), filter)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	confirmed := count("sessions", bson.D{{Key: "state", Value: "confirmed"}})
	certified, families := count("certifications", bson.D{}), count("families", bson.D{})
	if confirmed < 5 || certified < 1 || families < 1 || count("badges", bson.D{}) < 1 {
		t.Fatalf("the demo holds %d confirmed sessions, %d certified learners, %d families, %d badges", confirmed, certified, families, count("badges", bson.D{}))
	}

	admin := c.token("demo-admin", "admin", "")
	var province string
	for _, it := range get("/v1/campaigns", admin)["items"].([]any) {
		cp := it.(map[string]any)
		if cp["id"] != "all" && cp["active"] == true && len(cp["targets"].(map[string]any)) > 0 {
			province = cp["scope"].(string)
		}
	}
	if province == "" {
		t.Fatal("no active campaign with targets")
	}
	var prov struct {
		ID string `bson:"_id"`
	}
	if err := db.Collection("branches").FindOne(context.Background(), bson.D{{Key: "kind", Value: "province"}}).Decode(&prov); err != nil {
		t.Fatal(err)
	}
	// The demo is a real place: Điện Biên, its official communes, each
	// household and volunteer inside their own commune's outline.
	if b := get("/v1/branches/"+prov.ID, admin); b["name"] != "Tỉnh Điện Biên" || b["province_code"] != "11" {
		t.Errorf("the demo province is %v (%v)", b["name"], b["province_code"])
	}
	for _, coll := range []string{"households", "volunteers"} {
		cur, err := db.Collection(coll).Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var recs []struct {
			Province string `bson:"province_code"`
			Commune  string `bson:"commune_code"`
			Located  string `bson:"located_code"`
		}
		if err := cur.All(context.Background(), &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if unit, ok := geo.EmbeddedUnits().Commune(r.Commune); !ok || unit.ProvinceCode != "11" || r.Located != r.Commune {
				t.Fatalf("a demo %s of commune %s (province %s) is located in %q", coll, r.Commune, r.Province, r.Located)
			}
		}
		if len(recs) == 0 {
			t.Fatalf("no %s", coll)
		}
	}
	ind := get("/v1/dashboard/indicators?branch_id="+prov.ID, admin)
	total := ind["total"].(map[string]any)
	if total["certified_learners"] != float64(certified) || total["digital_families"] != float64(families) {
		t.Errorf("the dashboard says %v certified and %v families; the data %d and %d", total["certified_learners"], total["digital_families"], certified, families)
	}
	since, _ := time.Parse(time.RFC3339, ind["campaign"].(map[string]any)["starts_at"].(string))
	inCampaign := count("sessions", bson.D{{Key: "state", Value: "confirmed"}, {Key: "check_in.at", Value: bson.D{{Key: "$gte", Value: since}}}})
	for _, x := range ind["campaign"].(map[string]any)["targets"].([]any) {
		if tg := x.(map[string]any); tg["kind"] == "sessions" && tg["value"] != float64(inCampaign) {
			t.Errorf("the sessions target counts %v; the data %d since the campaign began", tg["value"], inCampaign)
		}
	}
	// The top of the all-time board holds the points of the ledger.
	top := get("/v1/leaderboards/all?board=volunteers&scope=national&period=campaign&limit=1", admin)["items"].([]any)
	if len(top) != 1 {
		t.Fatal("the all-time board is empty")
	}
	first := top[0].(map[string]any)
	cur, err := db.Collection("ledger").Find(context.Background(), bson.D{{Key: "volunteer", Value: first["id"]}})
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Points int `bson:"points"`
	}
	if err := cur.All(context.Background(), &entries); err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, e := range entries {
		sum += e.Points
	}
	if first["points"] != float64(sum) || sum == 0 {
		t.Errorf("the board gives %v %v points; the ledger %d", first["id"], first["points"], sum)
	}
	// A campaign message reaches people.
	res := call(t, http.MethodPost, c.base+"/v1/notifications/broadcasts", fmt.Sprintf(`{"branch_id":%q,"audience":"everyone","title":"Ngày hội số","body":"Hẹn gặp ở nhà văn hoá."}`, prov.ID), admin)
	if res.status != http.StatusAccepted || jsonOf(t, res)["recipients"].(float64) < 1 {
		t.Errorf("broadcast: %d %s", res.status, res.body)
	}
}

func jsonOf(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return m
}
