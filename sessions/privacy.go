package sessions

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
)

// Name names the sessions' part of an export.
func (s *Service) Name() string { return "sessions" }

func personFilter(kind, id string) bson.D {
	if kind == "volunteer" {
		return bson.D{{Key: "mentor_id", Value: id}}
	}
	return bson.D{{Key: "households", Value: id}}
}

// ExportPerson returns the sessions a volunteer mentored or a household
// took part in, and a household's progress.
func (s *Service) ExportPerson(ctx context.Context, kind, id, _ string) (any, error) {
	if kind != "volunteer" && kind != "household" {
		return nil, nil
	}
	list, err := store.FindAll[Session](ctx, s.st.sessions, personFilter(kind, id))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"sessions": list}
	if kind == "household" {
		progress, _, err := s.HouseholdProgress(ctx, id)
		if err != nil {
			return nil, err
		}
		out["progress"] = progress
	}
	return out, nil
}

// ErasePerson deletes the sessions of a volunteer or a household (their
// snapshots and events) and a household's progress, certifications and
// Gia đình số record. Points already awarded stay in the ledger, which
// gamify anonymizes for the same person.
func (s *Service) ErasePerson(ctx context.Context, kind, id, _ string) error {
	if kind != "volunteer" && kind != "household" {
		return nil
	}
	list, err := store.FindAll[Session](ctx, s.st.sessions, personFilter(kind, id))
	if err != nil {
		return err
	}
	ids := make(bson.A, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	if len(ids) > 0 {
		if _, err := s.st.events.DeleteMany(ctx, bson.D{{Key: "session_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return store.WrapMongo(err)
		}
		if _, err := s.st.sessions.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return store.WrapMongo(err)
		}
	}
	if kind == "household" {
		for _, coll := range []*mongo.Collection{s.st.progress, s.st.certs} {
			if _, err := coll.DeleteMany(ctx, bson.D{{Key: "household_id", Value: id}}); err != nil {
				return store.WrapMongo(err)
			}
		}
		_, err := s.st.families.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		return store.WrapMongo(err)
	}
	// A volunteer's name is nowhere here; the learners' records keep their
	// progress without naming who taught them.
	for _, coll := range []*mongo.Collection{s.st.progress, s.st.certs, s.st.families} {
		if _, err := coll.UpdateMany(ctx, bson.D{{Key: "mentor_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "mentor_id", Value: ""}}}}); err != nil {
			return store.WrapMongo(err)
		}
	}
	return nil
}

// ActiveSince reports whether a household has had a session scheduled
// (and not cancelled) since t: inactivity reminders are skipped then.
func (s *Service) ActiveSince(ctx context.Context, householdID string, t time.Time) (bool, error) {
	n, err := s.st.sessions.CountDocuments(ctx, bson.D{{Key: "households", Value: householdID},
		{Key: "created_at", Value: bson.D{{Key: "$gt", Value: t}}}, {Key: "state", Value: bson.D{{Key: "$ne", Value: StateCancelled}}}})
	return n > 0, store.WrapMongo(err)
}
