package gamify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/store/storetest"
)

func BenchmarkZZShape(b *testing.B) {
	db := storetest.Mongo(b)
	ctx := context.Background()
	n := storetest.EnvInt("ZZ_N", 50_000)
	now := time.Now()
	shapes := map[string]func(i int) any{
		"current": func(i int) any {
			e := Entry{ID: fmt.Sprintf("rb:%d", i), Reason: ReasonSession, Source: "", Points: 10, At: now, Who: benchWho(i)}
			e.Credits = []Credit{{Campaign: AllTime, Points: 10}}
			return toEntryDoc(e)
		},
		"shortjson": func(i int) any {
			w := benchWho(i)
			return bson.D{{Key: "_id", Value: fmt.Sprintf("rb:%d", i)}, {Key: "reason", Value: ReasonSession}, {Key: "source", Value: ""}, {Key: "points", Value: 10}, {Key: "at", Value: now}, {Key: "volunteer", Value: w.VolunteerID},
				{Key: "boards", Value: fmt.Sprintf(`{"n":%q,"b":%q,"bn":%q,"c":%q,"cn":%q,"p":%q,"cc":%q,"cr":[["all",10]]}`, w.Name, w.BranchID, w.BranchName, w.CommuneID, w.CommuneName, w.ProvinceCode, w.CommuneCode)}}
		},
		"shortall": func(i int) any {
			w := benchWho(i)
			return bson.D{{Key: "_id", Value: fmt.Sprintf("rb:%d", i)}, {Key: "r", Value: ReasonSession}, {Key: "s", Value: ""}, {Key: "p", Value: 10}, {Key: "at", Value: now}, {Key: "v", Value: w.VolunteerID},
				{Key: "b", Value: fmt.Sprintf(`{"n":%q,"b":%q,"bn":%q,"c":%q,"cn":%q,"p":%q,"cc":%q,"cr":[["all",10]]}`, w.Name, w.BranchID, w.BranchName, w.CommuneID, w.CommuneName, w.ProvinceCode, w.CommuneCode)}}
		},
		"pipes": func(i int) any {
			w := benchWho(i)
			return bson.D{{Key: "_id", Value: fmt.Sprintf("rb:%d", i)}, {Key: "reason", Value: ReasonSession}, {Key: "source", Value: ""}, {Key: "points", Value: 10}, {Key: "at", Value: now}, {Key: "volunteer", Value: w.VolunteerID},
				{Key: "boards", Value: fmt.Sprintf(`%s|%s|%s|%s|%s|%s|%s|all=10`, w.Name, w.BranchID, w.BranchName, w.CommuneID, w.CommuneName, w.ProvinceCode, w.CommuneCode)}}
		},
	}
	order := []string{"current", "agg", "current", "agg", "agg", "current", "agg", "current"}
	for _, name := range order {
		coll := db.Collection("zz_current")
		if c, _ := coll.EstimatedDocumentCount(ctx); c == 0 && name == "current" {
			batch := []any{}
			for i := range n {
				batch = append(batch, shapes[name](i))
				if len(batch) == 1000 {
					if _, err := coll.InsertMany(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
		}
		start := time.Now()
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(2000))
		if name == "agg" {
			cur, err = coll.Aggregate(ctx, bson.A{}, options.Aggregate().SetBatchSize(2000))
		}
		if err != nil {
			b.Fatal(err)
		}
		k := 0
		for cur.Next(ctx) {
			k++
		}
		d := time.Since(start)
		fmt.Printf("%s: %d docs %.1f s, %.1f µs/doc\n", name, k, d.Seconds(), float64(d.Microseconds())/float64(k))
	}
}
