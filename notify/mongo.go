package notify

import (
	"context"
	"errors"
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

// unexpired returns the notifications that have not expired at now.
func (s *mongoStore) unexpired(ctx context.Context, now time.Time) ([]notifDoc, error) {
	return store.FindAll[notifDoc](ctx, s.notifications, bson.D{{Key: "expires", Value: bson.D{{Key: "$gt", Value: now}}}})
}

// page returns a user's notifications older than the cursor before (all
// with a zero one), newest first, at most limit (0: all).
func (s *mongoStore) page(ctx context.Context, userID string, before Cursor, limit int) ([]notifDoc, error) {
	filter := bson.D{{Key: "user", Value: userID}}
	if !before.At.IsZero() {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "created", Value: bson.D{{Key: "$lt", Value: before.At}}}},
			bson.D{{Key: "created", Value: before.At}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: before.ID}}}},
		}})
	}
	return store.FindAll[notifDoc](ctx, s.notifications, filter,
		options.Find().SetSort(bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
}

// naming returns the ids of the notifications that name the person id
// (subjects) or were sent to userID ("": none).
func (s *mongoStore) naming(ctx context.Context, id, userID string) ([]string, error) {
	filter := bson.D{{Key: "subjects", Value: id}}
	if userID != "" {
		filter = bson.D{{Key: "$or", Value: bson.A{filter, bson.D{{Key: "user", Value: userID}}}}}
	}
	docs, err := store.FindAll[notifDoc](ctx, s.notifications, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, err
}

// deleteNotifications deletes the notifications ids and their outcomes.
func (s *mongoStore) deleteNotifications(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 1000)]
		ids = ids[len(chunk):]
		in := store.InFilter("_id", chunk)
		if _, err := s.outcomes.DeleteMany(ctx, in); err != nil {
			return store.WrapMongo(err)
		}
		if _, err := s.notifications.DeleteMany(ctx, in); err != nil {
			return store.WrapMongo(err)
		}
	}
	return nil
}

// ---- devices ----

// device reads one device by its token; ErrNotFound if there is none.
func (s *mongoStore) device(ctx context.Context, token string) (deviceDoc, error) {
	var d deviceDoc
	err := s.devices.FindOne(ctx, bson.D{{Key: "_id", Value: token}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return deviceDoc{}, ErrNotFound
	}
	return d, store.WrapMongo(err)
}

// putDevice writes a device whole, under its token.
func (s *mongoStore) putDevice(ctx context.Context, d deviceDoc) error {
	_, err := s.devices.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.Token}}, d, options.Replace().SetUpsert(true))
	return store.WrapMongo(err)
}

// devicesOf returns a user's devices, the most recently seen first.
func (s *mongoStore) devicesOf(ctx context.Context, userID string) ([]deviceDoc, error) {
	return store.FindAll[deviceDoc](ctx, s.devices, bson.D{{Key: "user", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "last_seen", Value: -1}, {Key: "_id", Value: 1}}))
}

// devicesSeenBefore returns the devices last seen before t.
func (s *mongoStore) devicesSeenBefore(ctx context.Context, t time.Time) ([]deviceDoc, error) {
	return store.FindAll[deviceDoc](ctx, s.devices, bson.D{{Key: "last_seen", Value: bson.D{{Key: "$lt", Value: t}}}})
}

func (s *mongoStore) allDevices(ctx context.Context) ([]deviceDoc, error) {
	return store.FindAll[deviceDoc](ctx, s.devices, bson.D{})
}

// dropDevice deletes the device token, only if it is userID's when that
// is given; ErrNotFound if there was none.
func (s *mongoStore) dropDevice(ctx context.Context, token, userID string) error {
	filter := bson.D{{Key: "_id", Value: token}}
	if userID != "" {
		filter = append(filter, bson.E{Key: "user", Value: userID})
	}
	res, err := s.devices.DeleteOne(ctx, filter)
	if err != nil {
		return store.WrapMongo(err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// broadcastDoc is one of a unit's daily broadcast slots.
type broadcastDoc struct {
	ID         string    `bson:"_id"` // branch#day#n
	Broadcast  string    `bson:"broadcast"`
	By         string    `bson:"by"`
	Recipients int       `bson:"recipients"`
	At         time.Time `bson:"at"`
}
