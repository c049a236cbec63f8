package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// MongoConfig says where MongoDB is and how long to wait for it.
type MongoConfig struct {
	URI      string
	Database string
	// Timeout bounds dialling and each operation that has no deadline of
	// its own, so that a dead MongoDB fails fast.
	Timeout time.Duration
	// SelectionTimeout bounds server selection, which in the driver also
	// bounds the wait for a pooled connection; 0: Timeout. The service gives
	// its request timeout, so that a request waits for a busy store's
	// connection within its own deadline (a burst on the embedded FerretDB's
	// four connections waited longer than 500 ms and was answered 503); a
	// store that cannot be reached is still told at once by /readyz, and a
	// request finds it so within its deadline.
	SelectionTimeout time.Duration
	// Monitor, when set, is told of every command (benchmarks count them).
	Monitor *event.CommandMonitor
}

// OpenMongo connects to MongoDB and checks that it answers.
func OpenMongo(ctx context.Context, cfg MongoConfig) (*mongo.Client, *mongo.Database, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.SelectionTimeout <= 0 {
		cfg.SelectionTimeout = cfg.Timeout
	}
	opts := options.Client().ApplyURI(cfg.URI).
		SetServerSelectionTimeout(cfg.SelectionTimeout).
		SetConnectTimeout(cfg.Timeout).
		SetTimeout(2 * cfg.Timeout).
		SetAppName("daisuso")
	if cfg.Monitor != nil {
		opts.SetMonitor(cfg.Monitor)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("mongodb connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*cfg.Timeout)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, nil, fmt.Errorf("mongodb ping: %w", WrapMongo(err))
	}
	rememberBackend(client, detectBackend(pingCtx, client))
	return client, client.Database(cfg.Database), nil
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// EnsureIndexes creates indexes, treating "already exists" as success.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	// One at a time: FerretDB 1.24 panics (and drops the connection) on a
	// createIndexes of several indexes that all exist already, which is
	// every start but the first (TestEnsureIndexesAgain).
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("indexes on %s: %w", coll.Name(), WrapMongo(err))
		}
	}
	return nil
}

// InsertNew inserts docs, unordered, and reports which of them were new:
// a duplicate _id is the same thing written before, not an error. Any
// other failure fails them all (which of them were written is then not
// known; written again, those come back as not new).
func InsertNew[T any](ctx context.Context, coll *mongo.Collection, docs []T) ([]bool, error) {
	fresh := make([]bool, len(docs))
	if len(docs) == 0 {
		return fresh, nil
	}
	for i := range fresh {
		fresh[i] = true
	}
	_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return fresh, nil
	}
	var bulk mongo.BulkWriteException
	if !errors.As(err, &bulk) || bulk.WriteConcernError != nil || len(bulk.WriteErrors) == 0 {
		return nil, WrapMongo(err)
	}
	for _, we := range bulk.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(docs) {
			return nil, WrapMongo(err)
		}
		fresh[we.Index] = false
	}
	return fresh, nil
}

// FindAll runs a query and decodes every matching document into a T.
func FindAll[T any](ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := coll.Find(ctx, filter, opts...)
	if err != nil {
		return nil, WrapMongo(err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, WrapMongo(err)
	}
	return out, nil
}

// SumBy sums sum (1 to count, or a numeric field path such as "$n") over
// the documents matching match, grouped by the string field group ("$x"):
// one $group with one accumulator, because FerretDB 1.24 computes only
// the first accumulator of a $group and returns 0 for the others.
func SumBy(ctx context.Context, coll *mongo.Collection, match bson.D, group string, sum any) (map[string]int, error) {
	pipeline := bson.A{bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: group}, {Key: "n", Value: bson.D{{Key: "$sum", Value: sum}}}}}}}
	if len(match) > 0 {
		pipeline = append(bson.A{bson.D{{Key: "$match", Value: match}}}, pipeline...)
	}
	cur, err := coll.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, WrapMongo(err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, WrapMongo(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// InFilter is {field: {$in: values}}, or no filter at all when values is
// empty (meaning "every document").
func InFilter(field string, values []string) bson.D {
	if len(values) == 0 {
		return nil
	}
	return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: values}}}}
}
