package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/store"
)

// Idempotent retries: a phone on a poor connection resends a POST with the
// same Idempotency-Key, and gets the first answer back instead of doing the
// work twice.
//
// The record of a key is an insert-only document whose _id is a hash of
// (user, method, path, key): the insert that wins runs the request; every
// other one finds the record. This holds on any store that keeps unique
// keys, even one that loses concurrent updates. The record is then written
// only by the request that owns it.

const maxIdempotencyKey = 128

const (
	idempotencyCollection = "idempotency"
	// idempotencyKeep is how long a record is kept for replays: a phone
	// that retries within a day gets the first answer.
	idempotencyKeep = 24 * time.Hour
)

type idemDoc struct {
	ID          string    `bson:"_id"`
	User        string    `bson:"user"`
	Subject     string    `bson:"subject,omitempty"` // the record the response is about, so erasing it erases this too
	BodyHash    string    `bson:"body_hash"`
	State       string    `bson:"state"` // "running" or "done"
	Status      int       `bson:"status,omitempty"`
	ContentType string    `bson:"content_type,omitempty"`
	Body        []byte    `bson:"body,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
	// ExpiresAt is when the record goes (created_at + keep): a TTL index
	// deletes it, or where the store has none, sweep.
	ExpiresAt time.Time `bson:"expires_at"`
}

type idempotency struct {
	coll *mongo.Collection
	now  func() time.Time
	// staleAfter is when a "running" record is taken to belong to a request
	// that died (the server crashed): longer than any request may run.
	staleAfter time.Duration
	// keep is how long finished records are kept for replays.
	keep time.Duration
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent wraps a route that a phone may retry. Without the header the
// request runs as usual.
func (a *API) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return c.Next()
	}
	if !validIdempotencyKey(key) {
		return newError(fiber.StatusBadRequest, "invalid_idempotency_key", nil)
	}
	ctx := c.UserContext()
	id := hashHex(callerOf(c).ID, c.Method(), routeKey(c), key)
	bodyHash := hashHex(string(c.Body()))
	claimed, prior, err := a.idem.claim(ctx, id, callerOf(c).ID, bodyHash)
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case prior.BodyHash != bodyHash:
			return newError(fiber.StatusUnprocessableEntity, "idempotency_key_reused", nil)
		case prior.State != "done":
			return newError(fiber.StatusConflict, "request_in_progress", nil)
		}
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, prior.ContentType)
		return c.Status(prior.Status).Send(prior.Body)
	}
	if err := c.Next(); err != nil {
		if herr := a.handleError(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	// A store outage or our own bug is not an answer to replay: free the
	// key so that the retry runs the request again.
	saveCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if status >= 500 {
		if err := a.idem.release(saveCtx, id); err != nil {
			a.log.Warn("idempotency release failed", "request_id", requestID(c), "err", err)
		}
		return nil
	}
	subject, _ := c.Locals(localSubject).(string)
	if err := a.idem.finish(saveCtx, id, subject, status, string(c.Response().Header.ContentType()), c.Response().Body()); err != nil {
		a.log.Warn("idempotency record not saved", "request_id", requestID(c), "err", err)
	}
	return nil
}

// routeKey is the request's route with its parameters' values: one key for
// every spelling of a path that reaches the same handler and object (a
// trailing slash, letter case), so a key reused with another body is
// caught whatever the spelling.
func routeKey(c *fiber.Ctx) string {
	r := c.Route()
	parts := []string{r.Path}
	for _, p := range r.Params {
		parts = append(parts, c.Params(p))
	}
	return strings.Join(parts, "\x00")
}

func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// claim inserts a running record for id. It returns claimed=true if this
// request owns the key, else the record that is there. A running record
// older than staleAfter is removed (only if it is still that record) and the
// claim tried once more, so a crash does not lock a key forever.
func (s *idempotency) claim(ctx context.Context, id, user, bodyHash string) (bool, idemDoc, error) {
	for attempt := 0; attempt < 2; attempt++ {
		now := s.now().UTC().Truncate(time.Millisecond)
		_, err := s.coll.InsertOne(ctx, idemDoc{ID: id, User: user, BodyHash: bodyHash, State: "running", CreatedAt: now,
			ExpiresAt: now.Add(s.keep)})
		err = store.WrapMongo(err)
		if err == nil {
			return true, idemDoc{}, nil
		}
		if !errors.Is(err, store.ErrDuplicate) {
			return false, idemDoc{}, err
		}
		var prior idemDoc
		err = s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&prior)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // released between our insert and read
		}
		if err != nil {
			return false, idemDoc{}, store.WrapMongo(err)
		}
		if prior.State == "done" || now.Sub(prior.CreatedAt) < s.staleAfter {
			return false, prior, nil
		}
		if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id},
			{Key: "state", Value: "running"}, {Key: "created_at", Value: prior.CreatedAt}}); err != nil {
			return false, idemDoc{}, store.WrapMongo(err)
		}
	}
	return false, idemDoc{State: "running"}, nil
}

func (s *idempotency) finish(ctx context.Context, id, subject string, status int, contentType string, body []byte) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: "done"}, {Key: "status", Value: status}, {Key: "subject", Value: subject},
		{Key: "content_type", Value: contentType}, {Key: "body", Value: append([]byte(nil), body...)},
	}}})
	return store.WrapMongo(err)
}

func (s *idempotency) release(ctx context.Context, id string) error {
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// sweep deletes expired records where the store has no TTL index to do it
// (store.SweepExpired).
func (s *idempotency) sweep(ctx context.Context) (int64, error) {
	return store.SweepExpired(ctx, s.coll, "expires_at", s.now())
}

// UpgradeIdempotencyRecords gives the idempotency records written before
// they had an expiry (created_at + keep) one, so that they go like the
// others (`daisuso migrate`). It returns how many it changed.
func UpgradeIdempotencyRecords(ctx context.Context, db *mongo.Database) (int, error) {
	coll := db.Collection(idempotencyCollection)
	docs, err := store.FindAll[idemDoc](ctx, coll, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetProjection(bson.D{{Key: "created_at", Value: 1}}))
	if err != nil {
		return 0, err
	}
	for i, d := range docs {
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: d.CreatedAt.Add(idempotencyKeep)}}}}); err != nil {
			return i, store.WrapMongo(err)
		}
	}
	return len(docs), nil
}
