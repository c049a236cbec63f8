package people

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
)

// userStore keeps users in the "users" collection, keyed by their id.
type userStore struct {
	coll *mongo.Collection
}

// newUserStore returns the users store of db. Users are found only by _id,
// so the collection needs no index of its own.
func newUserStore(db *mongo.Database) *userStore {
	return &userStore{coll: db.Collection("users")}
}

type userDoc struct {
	ID        string    `bson:"_id"`
	Role      string    `bson:"role"`
	BranchID  string    `bson:"branch_id,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

func (s *userStore) get(ctx context.Context, id string) (User, error) {
	var d userDoc
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, store.WrapMongo(err)
	}
	return User{ID: d.ID, Role: Role(d.Role), BranchID: d.BranchID, CreatedAt: d.CreatedAt}, nil
}

// insert adds u unless a user with its id exists; it reports whether it did.
// Insert-only: two concurrent first sign-ins cannot both create the user.
func (s *userStore) insert(ctx context.Context, u User) (bool, error) {
	_, err := s.coll.InsertOne(ctx, userDoc{ID: u.ID, Role: string(u.Role), BranchID: u.BranchID, CreatedAt: u.CreatedAt})
	err = store.WrapMongo(err)
	if errors.Is(err, store.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}
