package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/store/storetest"
)

// TestMigrateBeforeStart: the service refuses a ledger an earlier version
// wrote (its boards a JSON string) and says to migrate; starting it does
// not rewrite data. `daisuso migrate` rewrites it, run again rewrites
// nothing, and the service then starts and counts the entry's points.
func TestMigrateBeforeStart(t *testing.T) {
	storetest.Long(t)
	db := storetest.Mongo(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := db.Collection("ledger").InsertOne(ctx, bson.D{{Key: "_id", Value: "session:s1:vol-1"}, {Key: "reason", Value: "session"},
		{Key: "source", Value: "s1"}, {Key: "points", Value: 10}, {Key: "at", Value: at}, {Key: "volunteer", Value: "vol-1"},
		{Key: "boards", Value: `{"n":"Lò Thị Mai","b":"br1","bn":"Chi đoàn bản Nậm Kè","c":"cm1","cn":"Xã Nậm Kè","p":"11","cc":"03162","cr":[["all",10]]}`}}); err != nil {
		t.Fatal(err)
	}
	// An idempotency record from before records had an expiry.
	if _, err := db.Collection("idempotency").InsertOne(ctx, bson.D{{Key: "_id", Value: "k1"}, {Key: "user", Value: "vol-1"},
		{Key: "state", Value: "done"}, {Key: "created_at", Value: at}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MONGODB_URI": storetest.MongoURI(t), "MONGODB_DATABASE": db.Name(),
		"REDIS_URL": storetest.RedisURL(t), "REDIS_PREFIX": storetest.Name("m") + ":", "DEV_MODE": "true",
		"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }

	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(runCtx, nil, getenv, &out); !errors.Is(err, errMigrate) || !strings.Contains(err.Error(), "daisuso migrate") {
		t.Fatalf("start on an earlier ledger: %v, want the advice to migrate", err)
	}
	if n, err := db.Collection("ledger").CountDocuments(ctx, bson.D{{Key: "boards", Value: bson.D{{Key: "$type", Value: "string"}}}}); err != nil || n != 1 {
		t.Fatalf("the start rewrote data: %d entries left as written (%v)", n, err)
	}

	migrate := func() string {
		var out bytes.Buffer
		if err := run(ctx, []string{"migrate"}, getenv, &out); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out.String())
		}
		return out.String()
	}
	if got := migrate(); !strings.Contains(got, "points ledger: 1 entries rewritten") || !strings.Contains(got, "idempotency records: 1 given an expiry") {
		t.Fatalf("migrate said %q", got)
	}
	if got := migrate(); !strings.Contains(got, "points ledger: 0 entries rewritten") || !strings.Contains(got, "idempotency records: 0 given") {
		t.Fatalf("a second migrate said %q", got)
	}
	var rec struct {
		ExpiresAt time.Time `bson:"expires_at"`
	}
	if err := db.Collection("idempotency").FindOne(ctx, bson.D{{Key: "_id", Value: "k1"}}).Decode(&rec); err != nil || !rec.ExpiresAt.Equal(at.Add(24*time.Hour)) {
		t.Fatalf("the old record expires %v (%v), want a day after it was made", rec.ExpiresAt, err)
	}
	var doc struct {
		Boards bson.Raw `bson:"boards"`
	}
	if err := db.Collection("ledger").FindOne(ctx, bson.D{{Key: "_id", Value: "session:s1:vol-1"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if name, _ := doc.Boards.Lookup("name").StringValueOK(); name != "Lò Thị Mai" {
		t.Fatalf("the migrated entry's boards: %s", doc.Boards)
	}

	c := startChild(t, env)
	admin := c.token("root", "admin", "")
	res := call(t, "GET", c.base+"/v1/leaderboards/all?board=volunteers&scope=national&period=campaign", "", admin)
	if res.status != 200 || !strings.Contains(string(res.body), `"points":10`) {
		t.Fatalf("the boards after migrating: %d %s", res.status, res.body)
	}
}
