package notify

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/store"
)

// mongoStore keeps notifications, their outcomes and devices. Notifications
// and outcomes are insert-only under the notification id: a unique _id
// holds on every store, where concurrent updates of one document may be
// lost on some (README, "What the design relies on from the stores").
type mongoStore struct {
	notifications *mongo.Collection
	outcomes      *mongo.Collection
	devices       *mongo.Collection
	broadcasts    *mongo.Collection // the daily slots of each unit's broadcasts
}

func newMongoStore(db *mongo.Database) *mongoStore {
	return &mongoStore{notifications: db.Collection("notifications"), outcomes: db.Collection("notification_outcomes"),
		devices: db.Collection("devices"), broadcasts: db.Collection("broadcasts")}
}

func (s *mongoStore) ensureIndexes(ctx context.Context) error {
	if err := store.EnsureIndexes(ctx, s.notifications,
		mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}, {Key: "created", Value: -1}}}, // the list, erasure
		mongo.IndexModel{Keys: bson.D{{Key: "expires", Value: 1}}},                           // reconcile
		mongo.IndexModel{Keys: bson.D{{Key: "subjects", Value: 1}}}); err != nil {            // erasure of whom they name
		return err
	}
	return store.EnsureIndexes(ctx, s.devices,
		mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "last_seen", Value: 1}}})
}

type notifDoc struct {
	ID        string            `bson:"_id" json:"i"`
	Key       string            `bson:"key" json:"k"`
	User      string            `bson:"user" json:"u"`
	Kind      string            `bson:"kind" json:"t"`
	Ref       string            `bson:"ref,omitempty" json:"r,omitempty"`
	Params    map[string]string `bson:"params,omitempty" json:"p,omitempty"`
	Due       time.Time         `bson:"due" json:"d"`
	Expires   time.Time         `bson:"expires" json:"e"`
	Starts    *time.Time        `bson:"starts,omitempty" json:"s,omitempty"`
	Fallback  []string          `bson:"fallback,omitempty" json:"f,omitempty"`
	Recipient string            `bson:"recipient,omitempty" json:"n,omitempty"`
	OnBehalf  string            `bson:"on_behalf,omitempty" json:"o,omitempty"`
	Subjects  []string          `bson:"subjects,omitempty" json:"sj,omitempty"`
	Created   time.Time         `bson:"created" json:"c"`
}

func toDoc(n Notification) notifDoc {
	d := notifDoc{ID: n.ID(), Key: n.Key, User: n.UserID, Kind: string(n.Kind), Ref: n.Ref, Params: n.Params,
		Due: n.DueAt, Expires: n.ExpiresAt, Fallback: n.Fallback, Recipient: n.RecipientName,
		OnBehalf: n.OnBehalfOf, Subjects: n.Subjects, Created: n.CreatedAt}
	if !n.StartsAt.IsZero() {
		s := n.StartsAt
		d.Starts = &s
	}
	return d
}

func (d notifDoc) notification() Notification {
	n := Notification{Key: d.Key, UserID: d.User, Kind: Kind(d.Kind), Ref: d.Ref, Params: d.Params, DueAt: d.Due,
		ExpiresAt: d.Expires, Fallback: d.Fallback, RecipientName: d.Recipient, OnBehalfOf: d.OnBehalf, Subjects: d.Subjects, CreatedAt: d.Created}
	if d.Starts != nil {
		n.StartsAt = *d.Starts
	}
	return n
}

type outcomeDoc struct {
	ID      string    `bson:"_id"`
	State   string    `bson:"state"`
	At      time.Time `bson:"at"`
	Devices int       `bson:"devices,omitempty"`
	Detail  string    `bson:"detail,omitempty"`
}

type deviceDoc struct {
	Token    string    `bson:"_id"`
	User     string    `bson:"user"`
	Platform string    `bson:"platform"`
	Locale   string    `bson:"locale"`
	LastSeen time.Time `bson:"last_seen"`
	Created  time.Time `bson:"created"`
}

// outcomesOf returns the recorded outcomes of the ids.
func (s *mongoStore) outcomesOf(ctx context.Context, ids []string) (map[string]outcomeDoc, error) {
	return store.FindByIDs(ctx, s.outcomes, ids, func(o outcomeDoc) string { return o.ID })
}

// recordedIDs returns the id of every recorded outcome, streamed in
// batches.
func (s *mongoStore) recordedIDs(ctx context.Context) (map[string]bool, error) {
	cur, err := s.outcomes.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(5000))
	if err != nil {
		return nil, store.WrapMongo(err)
	}
	defer cur.Close(ctx)
	out := map[string]bool{}
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
			out[id] = true
		}
	}
	return out, store.WrapMongo(cur.Err())
}

// record writes outcomes; an outcome already there stays (the first one
// recorded is the truth).
func (s *mongoStore) record(ctx context.Context, outs []outcomeDoc) error {
	_, err := store.InsertNew(ctx, s.outcomes, outs)
	return err
}
