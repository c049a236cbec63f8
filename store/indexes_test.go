package store_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
	"daisuso/store/storetest"
)

// TestEnsureIndexesAgain: every start of the service ensures its indexes,
// so ensuring them on a collection that has them must succeed (FerretDB
// 1.24 dropped the connection on a createIndexes of several existing ones,
// and a restarted server failed to start).
func TestEnsureIndexesAgain(t *testing.T) {
	coll := storetest.Mongo(t).Collection("again")
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "created_at", Value: 1}}},
		{Keys: bson.D{{Key: "user", Value: 1}}},
		{Keys: bson.D{{Key: "subject", Value: 1}}},
	}
	for i := range 3 {
		if err := store.EnsureIndexes(context.Background(), coll, models...); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
}
