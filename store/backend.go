package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"weak"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"
)

// Backend is what the server behind a client can do, where the service
// picks a query shape by it. MongoDB does all of it. The stand-in that
// `make run` and the tests use (FerretDB 1.24) has no TTL indexes, and
// answers {_id: {$in: [...]}} by decoding every document of the
// collection; the helpers below do the same work another way there, so
// that domain code asks for what it needs and never names a backend.
type Backend struct {
	Name string // "MongoDB 8.0.4", "FerretDB"
	// TTL: the server deletes documents by a TTL index.
	TTL bool
	// IDLookups: documents are best read by _id one at a time.
	IDLookups bool
}

var mongoDB = Backend{Name: "MongoDB", TTL: true}

// backends holds what OpenMongo found of each client, for as long as the
// client lives.
var backends sync.Map // weak.Pointer[mongo.Client] -> Backend

// detectBackend asks the server who it is (buildInfo): FerretDB says so
// in a field of its own. A server that does not answer is taken to be
// MongoDB.
func detectBackend(ctx context.Context, client *mongo.Client) Backend {
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return mongoDB
	}
	if v, ok := info["ferretdbVersion"].(string); ok {
		b := Backend{Name: "FerretDB", IDLookups: true}
		if v != "unknown" { // as built into this binary
			b.Name += " " + v
		}
		return b
	}
	b := mongoDB
	if v, ok := info["version"].(string); ok {
		b.Name += " " + v
	}
	return b
}

func rememberBackend(client *mongo.Client, b Backend) {
	key := weak.Make(client)
	backends.Store(key, b)
	runtime.AddCleanup(client, func(k weak.Pointer[mongo.Client]) { backends.Delete(k) }, key)
}

// BackendOf is what OpenMongo found of the server behind db.
func BackendOf(db *mongo.Database) Backend {
	if b, ok := backends.Load(weak.Make(db.Client())); ok {
		return b.(Backend)
	}
	return mongoDB
}

// idLookupsAtOnce bounds the lookups FindByIDs runs at once.
const idLookupsAtOnce = 8

// FindByIDs returns the documents of coll whose _id is among ids, keyed by
// id (idOf): one {_id: {$in: ids}} query, or where the backend reads best
// by _id (Backend.IDLookups), one lookup each, a few at a time.
func FindByIDs[T any](ctx context.Context, coll *mongo.Collection, ids []string, idOf func(T) string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if !BackendOf(coll.Database()).IDLookups {
		docs, err := FindAll[T](ctx, coll, InFilter("_id", ids))
		for _, d := range docs {
			out[idOf(d)] = d
		}
		return out, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(idLookupsAtOnce)
	for _, id := range ids {
		g.Go(func() error {
			var d T
			err := coll.FindOne(gctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
			if errors.Is(err, mongo.ErrNoDocuments) {
				return nil
			}
			if err != nil {
				return WrapMongo(err)
			}
			mu.Lock()
			out[idOf(d)] = d
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// EnsureExpiry makes the documents of coll go once the date in field has
// passed: by a TTL index where the backend has them, else by SweepExpired,
// over a plain index on field.
func EnsureExpiry(ctx context.Context, coll *mongo.Collection, field string) error {
	m := mongo.IndexModel{Keys: bson.D{{Key: field, Value: 1}}}
	if BackendOf(coll.Database()).TTL {
		m.Options = options.Index().SetExpireAfterSeconds(0)
	}
	return EnsureIndexes(ctx, coll, m)
}

// SweepExpired deletes the documents of coll whose field is before now,
// where the backend has no TTL index (elsewhere the server does it, and
// this does nothing). It returns how many it deleted.
func SweepExpired(ctx context.Context, coll *mongo.Collection, field string, now time.Time) (int64, error) {
	if BackendOf(coll.Database()).TTL {
		return 0, nil
	}
	res, err := coll.DeleteMany(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$lt", Value: now}}}})
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", coll.Name(), WrapMongo(err))
	}
	return res.DeletedCount, nil
}
