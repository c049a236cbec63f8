package sessions

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/geo"
	"daisuso/store"
)

func itoa(i int) string { return strconv.Itoa(i) }

// mongoStore keeps the collections of sessions:
//
//	sessions        the latest snapshot of each session (queries)
//	session_events  _id "<session>#<version>": one insert per change, the
//	                guard against concurrent changes and the audit trail
//	progress        what earlier versions kept of topics completed; no longer
//	                written (progress is read from the confirmed sessions,
//	                see evidence), still erased with the people it names
//	certifications  _id "<household>#<member>": a certified learner
//	families        _id "<household>": a household that became a Gia đình số
type mongoStore struct {
	sessions, events, progress, certs, families *mongo.Collection
}

func newMongoStore(db *mongo.Database) *mongoStore {
	return &mongoStore{sessions: db.Collection("sessions"), events: db.Collection("session_events"),
		progress: db.Collection("progress"), certs: db.Collection("certifications"), families: db.Collection("families")}
}

func (m *mongoStore) ensureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		{m.sessions, bson.D{{Key: "mentor_id", Value: 1}, {Key: "starts_at", Value: 1}}},
		{m.sessions, bson.D{{Key: "households", Value: 1}}},
		{m.sessions, bson.D{{Key: "commune_id", Value: 1}, {Key: "state", Value: 1}}},
		{m.events, bson.D{{Key: "session_id", Value: 1}}},
		{m.progress, bson.D{{Key: "household_id", Value: 1}}},
		{m.certs, bson.D{{Key: "mentor_id", Value: 1}}},
		{m.certs, bson.D{{Key: "household_id", Value: 1}}},
		{m.certs, bson.D{{Key: "commune_id", Value: 1}}},
		{m.families, bson.D{{Key: "commune_id", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.coll, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return err
		}
	}
	return nil
}

type eventDoc struct {
	ID        string     `bson:"_id"`
	SessionID string     `bson:"session_id"`
	Snapshot  sessionDoc `bson:"snapshot"`
}

func eventID(id string, v int) string { return id + "#" + itoa(v) }

// commit writes version next.Version of a session: the event first (the
// unique _id decides between concurrent changes), then the snapshot.
func (m *mongoStore) commit(ctx context.Context, next Session) error {
	_, err := m.events.InsertOne(ctx, eventDoc{ID: eventID(next.ID, next.Version), SessionID: next.ID, Snapshot: toSessionDoc(next)})
	if err = store.WrapMongo(err); errors.Is(err, store.ErrDuplicate) {
		return ErrChanged
	}
	if err != nil {
		return err
	}
	return m.saveSnapshot(ctx, next)
}

func (m *mongoStore) saveSnapshot(ctx context.Context, s Session) error {
	_, err := m.sessions.ReplaceOne(ctx, bson.D{{Key: "_id", Value: s.ID}}, toSessionDoc(s), options.Replace().SetUpsert(true))
	return store.WrapMongo(err)
}

// load returns the latest version of a session: the snapshot, brought
// forward by any later events (a writer that stopped between the two
// writes, or a snapshot write that lost to an older one).
func (m *mongoStore) load(ctx context.Context, id string) (Session, error) {
	var d sessionDoc
	err := m.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	s := d.session()
	if errors.Is(err, mongo.ErrNoDocuments) {
		s = Session{ID: id} // the first event may exist without its snapshot
	} else if err != nil {
		return Session{}, store.WrapMongo(err)
	}
	moved := false
	for {
		var e eventDoc
		err := m.events.FindOne(ctx, bson.D{{Key: "_id", Value: eventID(id, s.Version+1)}}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return Session{}, store.WrapMongo(err)
		}
		s, moved = e.Snapshot.session(), true
	}
	if s.Version == 0 {
		return Session{}, ErrNotFound
	}
	if moved {
		if err := m.saveSnapshot(ctx, s); err != nil {
			return Session{}, err
		}
	}
	return s, nil
}

func (m *mongoStore) ofMentor(ctx context.Context, mentorID string, from, to time.Time) ([]Session, error) {
	filter := bson.D{{Key: "mentor_id", Value: mentorID}}
	if !from.IsZero() {
		filter = append(filter, bson.E{Key: "starts_at", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}})
	}
	return findSessions(ctx, m.sessions, filter, options.Find().SetSort(bson.D{{Key: "starts_at", Value: 1}}))
}

// latest lists the newest sessions (by start) whose field holds id: a
// mentor's (mentor_id) or a household's (households).
func (m *mongoStore) latest(ctx context.Context, field, id string, limit int) ([]Session, error) {
	return findSessions(ctx, m.sessions, bson.D{{Key: field, Value: id}},
		options.Find().SetSort(bson.D{{Key: "starts_at", Value: -1}}).SetLimit(int64(limit)))
}

// heldIn lists a commune's sessions held and waiting for confirmation,
// newest first.
func (m *mongoStore) heldIn(ctx context.Context, communeID string, limit int) ([]Session, error) {
	return findSessions(ctx, m.sessions, bson.D{{Key: "commune_id", Value: communeID}, {Key: "state", Value: StateHeld}},
		options.Find().SetSort(bson.D{{Key: "starts_at", Value: -1}}).SetLimit(int64(limit)))
}

type certDoc struct {
	ID          string    `bson:"_id"`
	HouseholdID string    `bson:"household_id"`
	Member      int       `bson:"member"`
	CommuneID   string    `bson:"commune_id"`
	MentorID    string    `bson:"mentor_id"`
	At          time.Time `bson:"at"`
}

type familyDoc struct {
	ID        string    `bson:"_id"` // household id
	CommuneID string    `bson:"commune_id"`
	MentorID  string    `bson:"mentor_id"`
	At        time.Time `bson:"at"`
}

// insertOnce inserts doc and reports whether it was new.
func insertOnce(ctx context.Context, coll *mongo.Collection, doc any) (bool, error) {
	_, err := coll.InsertOne(ctx, doc)
	err = store.WrapMongo(err)
	if errors.Is(err, store.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}

// certify records a certified learner once; true when this call did.
func (m *mongoStore) certify(ctx context.Context, d certDoc) (bool, error) {
	return insertOnce(ctx, m.certs, d)
}

// markFamily records a household as a Gia đình số once; true when this
// call did.
func (m *mongoStore) markFamily(ctx context.Context, d familyDoc) (bool, error) {
	return insertOnce(ctx, m.families, d)
}

// certsOf returns the certified learners of a household, in the order
// they were recorded.
func (m *mongoStore) certsOf(ctx context.Context, householdID string) ([]certDoc, error) {
	return store.FindAll[certDoc](ctx, m.certs, bson.D{{Key: "household_id", Value: householdID}})
}

// certsBy returns the learners a mentor certified.
func (m *mongoStore) certsBy(ctx context.Context, mentorID string) ([]certDoc, error) {
	return store.FindAll[certDoc](ctx, m.certs, bson.D{{Key: "mentor_id", Value: mentorID}})
}

// familiesIn returns the Gia đình số of the communes.
func (m *mongoStore) familiesIn(ctx context.Context, communeIDs []string) ([]familyDoc, error) {
	return store.FindAll[familyDoc](ctx, m.families, bson.D{{Key: "commune_id", Value: bson.D{{Key: "$in", Value: communeIDs}}}})
}

// certifiedSince returns the learners certified and the households that
// became Gia đình số in the communes since t, at most MaxMarks of each.
func (m *mongoStore) certifiedSince(ctx context.Context, communes []string, t time.Time) ([]certDoc, []familyDoc, error) {
	after := append(store.InFilter("commune_id", communes), bson.E{Key: "at", Value: bson.D{{Key: "$gte", Value: t}}})
	certs, err := store.FindAll[certDoc](ctx, m.certs, after, options.Find().SetLimit(MaxMarks))
	if err != nil {
		return nil, nil, err
	}
	fams, err := store.FindAll[familyDoc](ctx, m.families, after, options.Find().SetLimit(MaxMarks))
	return certs, fams, err
}

// confirmedOf returns a household's confirmed sessions.
func (m *mongoStore) confirmedOf(ctx context.Context, householdID string) ([]Session, error) {
	return findSessions(ctx, m.sessions, bson.D{{Key: "households", Value: householdID}, {Key: "state", Value: StateConfirmed}})
}

// confirmedIn returns the confirmed sessions of the communes checked in
// within [from, to) (to zero: up to now), at most MaxMarks, with where and
// when they were held, and with results the learners' results.
func (m *mongoStore) confirmedIn(ctx context.Context, communes []string, from, to time.Time, results bool) ([]Session, error) {
	held := bson.D{{Key: "$gte", Value: from}}
	if !to.IsZero() {
		held = append(held, bson.E{Key: "$lt", Value: to})
	}
	fields := bson.D{{Key: "commune_id", Value: 1}, {Key: "branch_id", Value: 1}, {Key: "check_in.at", Value: 1}}
	if results {
		fields = append(fields, bson.E{Key: "check_in.results", Value: 1})
	}
	return findSessions(ctx, m.sessions, append(store.InFilter("commune_id", communes),
		bson.E{Key: "state", Value: StateConfirmed}, bson.E{Key: "check_in.at", Value: held}),
		options.Find().SetLimit(MaxMarks).SetProjection(fields))
}

// countByCommune sums families, certified learners and sessions confirmed
// and checked in since t per commune: of communes, or of all when none is
// given.
func (m *mongoStore) countByCommune(ctx context.Context, since time.Time, communes []string) (map[string]CommuneCounts, error) {
	out := map[string]CommuneCounts{}
	in := store.InFilter("commune_id", communes)
	for _, part := range []struct {
		coll  *mongo.Collection
		match bson.D
		set   func(*CommuneCounts, int)
	}{
		{m.families, in, func(c *CommuneCounts, n int) { c.Families = n }},
		{m.certs, in, func(c *CommuneCounts, n int) { c.Certified = n }},
		{m.sessions, append(in, bson.E{Key: "state", Value: StateConfirmed}, bson.E{Key: "check_in.at", Value: bson.D{{Key: "$gte", Value: since}}}),
			func(c *CommuneCounts, n int) { c.Sessions = n }},
	} {
		counts, err := store.SumBy(ctx, part.coll, part.match, "$commune_id", 1)
		if err != nil {
			return nil, err
		}
		for commune, n := range counts {
			c := out[commune]
			part.set(&c, n)
			out[commune] = c
		}
	}
	return out, nil
}

// sessionsOf returns the sessions a volunteer mentored (kind "volunteer")
// or a household took part in.
func (m *mongoStore) sessionsOf(ctx context.Context, kind, id string) ([]Session, error) {
	filter := bson.D{{Key: "households", Value: id}}
	if kind == "volunteer" {
		filter = bson.D{{Key: "mentor_id", Value: id}}
	}
	return findSessions(ctx, m.sessions, filter)
}

// scheduledSince reports whether a household has a session created after
// t that was not cancelled.
func (m *mongoStore) scheduledSince(ctx context.Context, householdID string, t time.Time) (bool, error) {
	n, err := m.sessions.CountDocuments(ctx, bson.D{{Key: "households", Value: householdID},
		{Key: "created_at", Value: bson.D{{Key: "$gt", Value: t}}}, {Key: "state", Value: bson.D{{Key: "$ne", Value: StateCancelled}}}})
	return n > 0, store.WrapMongo(err)
}

// deleteSessions deletes sessions with their events.
func (m *mongoStore) deleteSessions(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := m.events.DeleteMany(ctx, bson.D{{Key: "session_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return store.WrapMongo(err)
	}
	_, err := m.sessions.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	return store.WrapMongo(err)
}

// eraseHousehold deletes a household's progress, certifications and Gia
// đình số record.
func (m *mongoStore) eraseHousehold(ctx context.Context, id string) error {
	for _, coll := range []*mongo.Collection{m.progress, m.certs} {
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "household_id", Value: id}}); err != nil {
			return store.WrapMongo(err)
		}
	}
	_, err := m.families.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// forgetMentor takes a volunteer's id out of the learners' records.
func (m *mongoStore) forgetMentor(ctx context.Context, id string) error {
	for _, coll := range []*mongo.Collection{m.progress, m.certs, m.families} {
		if _, err := coll.UpdateMany(ctx, bson.D{{Key: "mentor_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "mentor_id", Value: ""}}}}); err != nil {
			return store.WrapMongo(err)
		}
	}
	return nil
}

// findSessions reads the sessions filter selects.
func findSessions(ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]Session, error) {
	docs, err := store.FindAll[sessionDoc](ctx, coll, filter, opts...)
	out := make([]Session, len(docs))
	for i, d := range docs {
		out[i] = d.session()
	}
	return out, err
}

// ---- a session as it is stored ----

// sessionDoc is a session as the sessions collection and its events keep
// it. The nested documents are converted field by field: their Go types
// are the domain's, without tags.
type sessionDoc struct {
	ID           string           `bson:"_id"`
	Version      int              `bson:"version"`
	MentorID     string           `bson:"mentor_id"`
	BranchID     string           `bson:"branch_id"`
	CommuneID    string           `bson:"commune_id"`
	Learners     []learnerDoc     `bson:"learners,omitempty"`
	Households   []string         `bson:"households,omitempty"`
	StartsAt     time.Time        `bson:"starts_at"`
	Minutes      int              `bson:"minutes"`
	Cell         geo.Cell         `bson:"cell"` // where it is planned
	Topics       []string         `bson:"topics,omitempty"`
	State        string           `bson:"state"`
	CheckIn      *checkInDoc      `bson:"check_in,omitempty"`
	Flags        []string         `bson:"flags,omitempty"`
	Confirmation *confirmationDoc `bson:"confirmation,omitempty"`
	Review       *reviewDoc       `bson:"review,omitempty"`
	ScheduleItem string           `bson:"schedule_item"` // the offline item that scheduled it, if any
	CreatedAt    time.Time        `bson:"created_at"`
	UpdatedAt    time.Time        `bson:"updated_at"`
}

type learnerDoc struct {
	HouseholdID string `bson:"household_id"`
	Member      int    `bson:"member"`
	Language    string `bson:"language"`
}

type resultDoc struct {
	HouseholdID string   `bson:"household_id"`
	Member      int      `bson:"member"`
	Topics      []string `bson:"topics,omitempty"`
	Outcomes    []string `bson:"outcomes,omitempty"`
}

type checkInDoc struct {
	At            time.Time   `bson:"at"`
	Cell          geo.Cell    `bson:"cell"`
	TopicsCovered []string    `bson:"topics_covered,omitempty"`
	Results       []resultDoc `bson:"results,omitempty"`
	ItemID        string      `bson:"item_id"`
}

type confirmationDoc struct {
	By     string    `bson:"by"`
	Role   string    `bson:"role"`
	Method string    `bson:"method"`
	At     time.Time `bson:"at"`
}

type reviewDoc struct {
	By       string    `bson:"by"`
	Decision string    `bson:"decision"`
	At       time.Time `bson:"at"`
}

// convertAll converts each element of a slice, keeping nil nil.
func convertAll[A, B any](in []A, f func(A) B) []B {
	if in == nil {
		return nil
	}
	out := make([]B, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// convertPtr converts what a pointer points at, keeping nil nil.
func convertPtr[A, B any](in *A, f func(A) B) *B {
	if in == nil {
		return nil
	}
	out := f(*in)
	return &out
}

func toSessionDoc(s Session) sessionDoc {
	return sessionDoc{ID: s.ID, Version: s.Version, MentorID: s.MentorID, BranchID: s.BranchID, CommuneID: s.CommuneID,
		Learners: convertAll(s.Learners, func(l Learner) learnerDoc { return learnerDoc(l) }), Households: s.Households,
		StartsAt: s.StartsAt, Minutes: s.Minutes, Cell: s.Cell, Topics: s.Topics, State: s.State,
		CheckIn: convertPtr(s.CheckIn, func(c CheckIn) checkInDoc {
			return checkInDoc{At: c.At, Cell: c.Cell, TopicsCovered: c.TopicsCovered, ItemID: c.ItemID,
				Results: convertAll(c.Results, func(r Result) resultDoc { return resultDoc(r) })}
		}),
		Flags:        s.Flags,
		Confirmation: convertPtr(s.Confirmation, func(c Confirmation) confirmationDoc { return confirmationDoc(c) }),
		Review:       convertPtr(s.Review, func(r Review) reviewDoc { return reviewDoc(r) }),
		ScheduleItem: s.ScheduleItem, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (d sessionDoc) session() Session {
	return Session{ID: d.ID, Version: d.Version, MentorID: d.MentorID, BranchID: d.BranchID, CommuneID: d.CommuneID,
		Learners: convertAll(d.Learners, func(l learnerDoc) Learner { return Learner(l) }), Households: d.Households,
		StartsAt: d.StartsAt, Minutes: d.Minutes, Cell: d.Cell, Topics: d.Topics, State: d.State,
		CheckIn: convertPtr(d.CheckIn, func(c checkInDoc) CheckIn {
			return CheckIn{At: c.At, Cell: c.Cell, TopicsCovered: c.TopicsCovered, ItemID: c.ItemID,
				Results: convertAll(c.Results, func(r resultDoc) Result { return Result(r) })}
		}),
		Flags:        d.Flags,
		Confirmation: convertPtr(d.Confirmation, func(c confirmationDoc) Confirmation { return Confirmation(c) }),
		Review:       convertPtr(d.Review, func(r reviewDoc) Review { return Review(r) }),
		ScheduleItem: d.ScheduleItem, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}
