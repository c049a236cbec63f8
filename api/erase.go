package api

import (
	"context"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/store"
)

// personData is what the API layer itself keeps about a person: saved
// responses of idempotent requests (which may quote their data) and rate
// limit counters keyed by their user id. The registry calls it when a
// person is erased.
type personData struct{ a *API }

func (personData) Name() string { return "request_records" }

// ExportPerson exports nothing: the saved responses repeat data the export
// already holds, and the counters say only how many requests a minute.
func (personData) ExportPerson(context.Context, string, string, string) (any, error) { return nil, nil }

func (p personData) ErasePerson(ctx context.Context, _, id, userID string) error {
	filter := bson.D{{Key: "subject", Value: id}}
	if userID != "" {
		filter = bson.D{{Key: "$or", Value: bson.A{filter, bson.D{{Key: "user", Value: userID}}}}}
	}
	if _, err := p.a.idem.coll.DeleteMany(ctx, filter); err != nil {
		return store.WrapMongo(err)
	}
	if userID == "" || p.a.limiter == nil {
		return nil
	}
	l := p.a.limiter
	window := l.now().Unix() / int64(rateWindow.Seconds())
	keys := make([]string, 0, 3)
	for w := window - 2; w <= window; w++ {
		keys = append(keys, l.prefix+"rl:{u:"+userID+"}:"+strconv.FormatInt(w, 10))
	}
	// The keys share the hash tag {u:ID}, so one UNLINK works on a cluster.
	return store.WrapRedis(l.rdb.Unlink(ctx, keys...).Err())
}
