package matching

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/geo"
	"daisuso/store"
)

// mongoStore keeps matching's collections:
//
//	mentors      the mentor index: cells at resolutions 9, 8 and 7
//	requests     help requests
//	slots        one document per unit of a mentor's capacity in use,
//	             _id "mentorID:index": the over-assignment guard
//	assignments  _id = request id: a request is served at most once
//	runs         batch proposals; run_decisions: _id = run id, insert-only
//	request_members  _id "householdID#member": the one-open-request guard
//	request_escalations  _id = request id: a long wait went up once
type mongoStore struct {
	mentors, requests, slots, assignments, runs, decisions, claims, escalations *mongo.Collection
	// view is told of every mentor write and release of slots made here.
	view *view
}

func newMongoStore(db *mongo.Database, v *view) *mongoStore {
	return &mongoStore{mentors: db.Collection("mentors"), requests: db.Collection("help_requests"),
		slots: db.Collection("slots"), assignments: db.Collection("assignments"),
		runs: db.Collection("matching_runs"), decisions: db.Collection("run_decisions"),
		claims: db.Collection("request_members"), escalations: db.Collection("request_escalations"), view: v}
}

func (s *mongoStore) ensureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		{s.mentors, bson.D{{Key: "cell8", Value: 1}}},
		{s.mentors, bson.D{{Key: "cell7", Value: 1}}},
		{s.mentors, bson.D{{Key: "commune_id", Value: 1}}},
		{s.mentors, bson.D{{Key: "paused", Value: 1}, {Key: "paused_at", Value: 1}}},
		{s.requests, bson.D{{Key: "commune_id", Value: 1}}},
		{s.requests, bson.D{{Key: "household_id", Value: 1}}},
		{s.requests, bson.D{{Key: "cell7", Value: 1}}},
		{s.requests, bson.D{{Key: "created_at", Value: 1}}},
		{s.slots, bson.D{{Key: "mentor_id", Value: 1}}},
		{s.slots, bson.D{{Key: "request_id", Value: 1}}},
		{s.slots, bson.D{{Key: "created_at", Value: 1}}},
		{s.assignments, bson.D{{Key: "mentor_id", Value: 1}}},
		{s.assignments, bson.D{{Key: "household_id", Value: 1}}},
		{s.assignments, bson.D{{Key: "commune_id", Value: 1}}},
		{s.claims, bson.D{{Key: "household_id", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.coll, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return err
		}
	}
	return nil
}

// ---- mentors ----

type mentorDoc struct {
	ID        string    `bson:"_id"`
	CommuneID string    `bson:"commune_id"`
	BranchID  string    `bson:"branch_id"`
	Cell      string    `bson:"cell"`
	Cell8     string    `bson:"cell8"`
	Cell7     string    `bson:"cell7"`
	RadiusKm  float64   `bson:"radius_km"`
	Languages []string  `bson:"languages"`
	Topics    []string  `bson:"topics"`
	Capacity  int       `bson:"capacity"`
	Paused    bool      `bson:"paused"`
	PausedAt  time.Time `bson:"paused_at,omitempty"`
}

func parentHex(c geo.Cell, res int) string {
	p, err := c.Parent(res)
	if err != nil {
		return ""
	}
	return p.String()
}

func toMentorDoc(m Mentor) mentorDoc {
	return mentorDoc{ID: m.ID, CommuneID: m.CommuneID, BranchID: m.BranchID, Cell: m.Cell.String(),
		Cell8: parentHex(m.Cell, 8), Cell7: parentHex(m.Cell, 7), RadiusKm: m.RadiusKm, Languages: m.Languages,
		Topics: m.Topics, Capacity: m.Capacity, Paused: m.Paused, PausedAt: m.PausedAt}
}

func (d mentorDoc) mentor() Mentor {
	c, _ := geo.ParseCell(d.Cell, -1)
	return Mentor{ID: d.ID, CommuneID: d.CommuneID, BranchID: d.BranchID, Cell: c, RadiusKm: d.RadiusKm,
		Languages: d.Languages, Topics: d.Topics, Capacity: d.Capacity, Paused: d.Paused, PausedAt: d.PausedAt}
}

// upsertMentor writes the index entry of a mentor. One writer per mentor
// (their profile edits); no invariant rests on it.
func (s *mongoStore) upsertMentor(ctx context.Context, m Mentor) error {
	defer s.view.forgetMentors()
	_, err := s.mentors.ReplaceOne(ctx, bson.D{{Key: "_id", Value: m.ID}}, toMentorDoc(m), options.Replace().SetUpsert(true))
	return store.WrapMongo(err)
}

func (s *mongoStore) deleteMentor(ctx context.Context, id string) error {
	defer s.view.forgetMentors()
	_, err := s.mentors.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// mentorsIn returns the mentors whose cell at res is one of cells: the
// index walk of a search (one query for the whole disk).
func (s *mongoStore) mentorsIn(ctx context.Context, res int, cells []geo.Cell) ([]Mentor, error) {
	hex := make([]string, len(cells))
	for i, c := range cells {
		hex[i] = c.String()
	}
	field := "cell8"
	if res == 7 {
		field = "cell7"
	}
	return s.findMentors(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: hex}}}})
}

// byID reads one document by _id; ErrNotFound if there is none.
func byID[T any](ctx context.Context, coll *mongo.Collection, id string) (T, error) {
	var d T
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, ErrNotFound
	}
	return d, store.WrapMongo(err)
}

// mentor reads one mentor by id; ErrNotFound if there is none.
func (s *mongoStore) mentor(ctx context.Context, id string) (Mentor, error) {
	d, err := byID[mentorDoc](ctx, s.mentors, id)
	if err != nil {
		return Mentor{}, err
	}
	return d.mentor(), nil
}

func (s *mongoStore) findMentors(ctx context.Context, filter bson.D) ([]Mentor, error) {
	docs, err := store.FindAll[mentorDoc](ctx, s.mentors, filter)
	if err != nil {
		return nil, err
	}
	out := make([]Mentor, len(docs))
	for i, d := range docs {
		out[i] = d.mentor()
	}
	return out, nil
}

// ---- requests ----

type requestDoc struct {
	ID               string    `bson:"_id"`
	HouseholdID      string    `bson:"household_id"`
	CommuneID        string    `bson:"commune_id"`
	RequestedBy      string    `bson:"requested_by"`
	Cell             string    `bson:"cell"`
	Cell7            string    `bson:"cell7"`
	Members          []int     `bson:"members,omitempty"`
	Learners         int       `bson:"learners"`
	Language         string    `bson:"language"`
	LanguageRequired bool      `bson:"language_required"`
	Topics           []string  `bson:"topics"`
	RadiusKm         float64   `bson:"radius_km"`
	CreatedAt        time.Time `bson:"created_at"`
	// The last outcome of matching it, for the queue; informative only.
	UnservedReason string    `bson:"unserved_reason,omitempty"`
	TriedRadiiKm   []float64 `bson:"tried_radii_km,omitempty"`
	MentorsInReach int       `bson:"mentors_in_reach,omitempty"`
}

func (d requestDoc) request() Request {
	c, _ := geo.ParseCell(d.Cell, -1)
	return Request{ID: d.ID, HouseholdID: d.HouseholdID, CommuneID: d.CommuneID, RequestedBy: d.RequestedBy, Cell: c,
		Members: d.Members, Learners: d.Learners, Language: d.Language, LanguageRequired: d.LanguageRequired, Topics: d.Topics,
		RadiusKm: d.RadiusKm, CreatedAt: d.CreatedAt}
}

func (s *mongoStore) insertRequest(ctx context.Context, r Request) error {
	_, err := s.requests.InsertOne(ctx, requestDoc{ID: r.ID, HouseholdID: r.HouseholdID, CommuneID: r.CommuneID,
		RequestedBy: r.RequestedBy, Cell: r.Cell.String(), Cell7: parentHex(r.Cell, 7), Members: r.Members, Learners: r.Learners,
		Language: r.Language, LanguageRequired: r.LanguageRequired, Topics: r.Topics, RadiusKm: r.RadiusKm, CreatedAt: r.CreatedAt})
	return store.WrapMongo(err)
}

func (s *mongoStore) request(ctx context.Context, id string) (Request, *Unserved, error) {
	d, err := byID[requestDoc](ctx, s.requests, id)
	if err != nil {
		return Request{}, nil, err
	}
	var u *Unserved
	if d.UnservedReason != "" {
		u = &Unserved{Reason: d.UnservedReason, NextStep: NextStepCommune, TriedRadiiKm: d.TriedRadiiKm, MentorsInReach: d.MentorsInReach}
	}
	return d.request(), u, nil
}

func (s *mongoStore) findRequests(ctx context.Context, filter bson.D) ([]Request, error) {
	docs, err := s.findRequestDocs(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]Request, len(docs))
	for i, d := range docs {
		out[i] = d.request()
	}
	return out, nil
}

func (s *mongoStore) findRequestDocs(ctx context.Context, filter bson.D) ([]requestDoc, error) {
	return store.FindAll[requestDoc](ctx, s.requests, filter)
}

func (s *mongoStore) noteUnserved(ctx context.Context, id string, u Unserved) error {
	_, err := s.requests.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "unserved_reason", Value: u.Reason}, {Key: "tried_radii_km", Value: u.TriedRadiiKm},
		{Key: "mentors_in_reach", Value: u.MentorsInReach}}}})
	return store.WrapMongo(err)
}

func (s *mongoStore) deleteRequests(ctx context.Context, filter bson.D) error {
	_, err := s.requests.DeleteMany(ctx, filter)
	return store.WrapMongo(err)
}

// ---- member claims ----

type claimDoc struct {
	ID          string    `bson:"_id"` // householdID#member
	HouseholdID string    `bson:"household_id"`
	RequestID   string    `bson:"request_id"`
	CreatedAt   time.Time `bson:"created_at"`
}

func claimID(householdID string, member int) string { return fmt.Sprintf("%s#%d", householdID, member) }

// claimMember records that a member's open request is requestID, unless
// one is recorded already: it returns the claim that holds.
func (s *mongoStore) claimMember(ctx context.Context, householdID string, member int, requestID string, now time.Time) (claimDoc, error) {
	d := claimDoc{ID: claimID(householdID, member), HouseholdID: householdID, RequestID: requestID, CreatedAt: now}
	_, err := s.claims.InsertOne(ctx, d)
	if err == nil {
		return d, nil
	}
	if err = store.WrapMongo(err); !errors.Is(err, store.ErrDuplicate) {
		return claimDoc{}, err
	}
	held, err := byID[claimDoc](ctx, s.claims, d.ID)
	if errors.Is(err, ErrNotFound) {
		// Given up between the insert and the read: try once more.
		if _, err := s.claims.InsertOne(ctx, d); err != nil {
			return claimDoc{}, store.WrapMongo(err)
		}
		return d, nil
	}
	return held, err
}

// releaseClaims frees the members held by the claims filter selects.
func (s *mongoStore) releaseClaims(ctx context.Context, filter bson.D) error {
	_, err := s.claims.DeleteMany(ctx, filter)
	return store.WrapMongo(err)
}

// ---- slots ----

type slotDoc struct {
	ID        string    `bson:"_id"` // mentorID:index
	MentorID  string    `bson:"mentor_id"`
	Index     int       `bson:"index"`
	RequestID string    `bson:"request_id"`
	CreatedAt time.Time `bson:"created_at"`
}

func slotID(mentorID string, i int) string { return fmt.Sprintf("%s:%d", mentorID, i) }

// usedSlots returns, for each mentor, the indexes of its slots in use.
func (s *mongoStore) usedSlots(ctx context.Context, mentorIDs []string) (map[string][]int, error) {
	out := map[string][]int{}
	if len(mentorIDs) == 0 {
		return out, nil
	}
	docs, err := store.FindAll[slotDoc](ctx, s.slots, bson.D{{Key: "mentor_id", Value: bson.D{{Key: "$in", Value: mentorIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "mentor_id", Value: 1}, {Key: "index", Value: 1}}))
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		out[d.MentorID] = append(out[d.MentorID], d.Index)
	}
	return out, nil
}

// takeSlots inserts slots idx of a mentor in one unordered insert and
// reports which of them this request got (false: another holds it).
func (s *mongoStore) takeSlots(ctx context.Context, mentorID string, idx []int, requestID string, now time.Time) ([]bool, error) {
	docs := make([]slotDoc, len(idx))
	for k, i := range idx {
		docs[k] = slotDoc{ID: slotID(mentorID, i), MentorID: mentorID, Index: i, RequestID: requestID, CreatedAt: now}
	}
	return store.InsertNew(ctx, s.slots, docs)
}

// releaseSlots frees the slots a request holds (of any mentor).
func (s *mongoStore) releaseSlots(ctx context.Context, filter bson.D) error {
	defer s.view.forgetSlots()
	return s.deleteSlots(ctx, filter)
}

// deleteSlots deletes slots without telling the view: for a caller that
// tells it precisely what was freed.
func (s *mongoStore) deleteSlots(ctx context.Context, filter bson.D) error {
	_, err := s.slots.DeleteMany(ctx, filter)
	return store.WrapMongo(err)
}

// ---- assignments ----

type explanationDoc struct {
	DistanceKm           float64  `bson:"distance_km"`
	Rings                int      `bson:"rings"`
	SearchRadiusKm       float64  `bson:"search_radius_km"`
	SharedLanguage       string   `bson:"shared_language,omitempty"`
	LanguageRequired     bool     `bson:"language_required"`
	TopicsCovered        []string `bson:"topics_covered"`
	TopicsMissing        []string `bson:"topics_missing"`
	MentorNeededLearners int      `bson:"mentor_needed_learners"`
}

type assignmentDoc struct {
	RequestID   string         `bson:"_id"`
	MentorID    string         `bson:"mentor_id"`
	HouseholdID string         `bson:"household_id"`
	CommuneID   string         `bson:"commune_id"`
	Learners    int            `bson:"learners"`
	DistanceKm  float64        `bson:"distance_km"`
	Slots       []int          `bson:"slots"`
	Explanation explanationDoc `bson:"explanation"`
	Source      string         `bson:"source"`
	CreatedAt   time.Time      `bson:"created_at"`
}

func (d assignmentDoc) assignment() Assignment {
	return Assignment{RequestID: d.RequestID, MentorID: d.MentorID, HouseholdID: d.HouseholdID, CommuneID: d.CommuneID,
		Learners: d.Learners, DistanceKm: d.DistanceKm, Slots: d.Slots, Explanation: Explanation(d.Explanation),
		Source: d.Source, CreatedAt: d.CreatedAt}
}

// insertAssignment records a match; ErrDuplicate if the request is served.
func (s *mongoStore) insertAssignment(ctx context.Context, a Assignment) error {
	_, err := s.assignments.InsertOne(ctx, assignmentDoc{RequestID: a.RequestID, MentorID: a.MentorID,
		HouseholdID: a.HouseholdID, CommuneID: a.CommuneID, Learners: a.Learners, DistanceKm: a.DistanceKm,
		Slots: a.Slots, Explanation: explanationDoc(a.Explanation), Source: a.Source, CreatedAt: a.CreatedAt})
	return store.WrapMongo(err)
}

func (s *mongoStore) findAssignments(ctx context.Context, filter bson.D) ([]Assignment, error) {
	docs, err := store.FindAll[assignmentDoc](ctx, s.assignments, filter)
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, len(docs))
	for i, d := range docs {
		out[i] = d.assignment()
	}
	return out, nil
}

func (s *mongoStore) deleteAssignments(ctx context.Context, filter bson.D) error {
	_, err := s.assignments.DeleteMany(ctx, filter)
	return store.WrapMongo(err)
}
