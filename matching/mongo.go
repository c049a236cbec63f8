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
	if res == 7 {
		return s.findMentors(ctx, where{Cell7s: hex})
	}
	return s.findMentors(ctx, where{Cell8s: hex})
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

func (s *mongoStore) findMentors(ctx context.Context, w where) ([]Mentor, error) {
	docs, err := findWhere[mentorDoc](ctx, s.mentors, w)
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

func (s *mongoStore) findRequests(ctx context.Context, w where) ([]Request, error) {
	docs, err := s.findRequestDocs(ctx, w)
	if err != nil {
		return nil, err
	}
	out := make([]Request, len(docs))
	for i, d := range docs {
		out[i] = d.request()
	}
	return out, nil
}

func (s *mongoStore) findRequestDocs(ctx context.Context, w where) ([]requestDoc, error) {
	return findWhere[requestDoc](ctx, s.requests, w)
}

func (s *mongoStore) noteUnserved(ctx context.Context, id string, u Unserved) error {
	_, err := s.requests.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "unserved_reason", Value: u.Reason}, {Key: "tried_radii_km", Value: u.TriedRadiiKm},
		{Key: "mentors_in_reach", Value: u.MentorsInReach}}}})
	return store.WrapMongo(err)
}

func (s *mongoStore) deleteRequests(ctx context.Context, w where) error {
	return deleteWhere(ctx, s.requests, w)
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

// releaseClaims frees the members held by the claims w selects.
func (s *mongoStore) releaseClaims(ctx context.Context, w where) error {
	return deleteWhere(ctx, s.claims, w)
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

// releaseSlots frees the slots w selects.
func (s *mongoStore) releaseSlots(ctx context.Context, w where) error {
	defer s.view.forgetSlots()
	return s.deleteSlots(ctx, w)
}

// deleteSlots deletes slots without telling the view: for a caller that
// tells it precisely what was freed.
func (s *mongoStore) deleteSlots(ctx context.Context, w where) error {
	return deleteWhere(ctx, s.slots, w)
}

// slotsTakenBefore returns the slots in use taken before t.
func (s *mongoStore) slotsTakenBefore(ctx context.Context, t time.Time) ([]slotDoc, error) {
	return findWhere[slotDoc](ctx, s.slots, where{CreatedBefore: t})
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

func (s *mongoStore) findAssignments(ctx context.Context, w where) ([]Assignment, error) {
	docs, err := findWhere[assignmentDoc](ctx, s.assignments, w)
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, len(docs))
	for i, d := range docs {
		out[i] = d.assignment()
	}
	return out, nil
}

func (s *mongoStore) deleteAssignments(ctx context.Context, w where) error {
	return deleteWhere(ctx, s.assignments, w)
}

// where selects documents of matching's collections by what the service
// asks of them; each field set narrows the choice. A list that is set but
// empty selects nothing, and so does a where with nothing set: no call
// reads or deletes a whole collection by mistake.
type where struct {
	IDs         []string // _id: a request's for requests, assignments and escalations
	RequestIDs  []string // the request a slot or claim is held for
	MentorIDs   []string
	Households  []string
	Communes    []string
	Cell7s      []string // requests and mentors by their resolution-7 cell
	Cell8s      []string // mentors by their resolution-8 cell
	Paused      *bool
	PausedSince time.Time // paused before this (zero: any time)
	// CreatedSince and CreatedBefore bound created_at: [since, before).
	CreatedSince, CreatedBefore time.Time
}

// only is values as a where list: empty, not unset, when values is nil,
// so that it selects nothing rather than leaving the field free.
func only(values []string) []string {
	if values == nil {
		return []string{}
	}
	return values
}

// filter is the query of w, and false when w selects nothing.
func (w where) filter() (bson.D, bool) {
	var f bson.D
	none := false
	in := func(key string, values []string) {
		switch {
		case values == nil:
		case len(values) == 0:
			none = true
		case len(values) == 1: // an equality, which every store plans best
			f = append(f, bson.E{Key: key, Value: values[0]})
		default:
			f = append(f, bson.E{Key: key, Value: bson.D{{Key: "$in", Value: values}}})
		}
	}
	in("_id", w.IDs)
	in("request_id", w.RequestIDs)
	in("mentor_id", w.MentorIDs)
	in("household_id", w.Households)
	in("commune_id", w.Communes)
	in("cell7", w.Cell7s)
	in("cell8", w.Cell8s)
	if w.Paused != nil {
		f = append(f, bson.E{Key: "paused", Value: *w.Paused})
	}
	if !w.PausedSince.IsZero() {
		f = append(f, bson.E{Key: "paused_at", Value: bson.D{{Key: "$lt", Value: w.PausedSince}}})
	}
	var created bson.D
	if !w.CreatedBefore.IsZero() {
		created = append(created, bson.E{Key: "$lt", Value: w.CreatedBefore})
	}
	if !w.CreatedSince.IsZero() {
		created = append(created, bson.E{Key: "$gte", Value: w.CreatedSince})
	}
	if created != nil {
		f = append(f, bson.E{Key: "created_at", Value: created})
	}
	return f, !none && len(f) > 0
}

// findWhere reads the documents of coll that w selects.
func findWhere[T any](ctx context.Context, coll *mongo.Collection, w where) ([]T, error) {
	f, ok := w.filter()
	if !ok {
		return nil, nil
	}
	return store.FindAll[T](ctx, coll, f)
}

// deleteWhere deletes the documents of coll that w selects.
func deleteWhere(ctx context.Context, coll *mongo.Collection, w where) error {
	f, ok := w.filter()
	if !ok {
		return nil
	}
	_, err := coll.DeleteMany(ctx, f)
	return store.WrapMongo(err)
}

// ---- escalations ----

type escalationDoc struct {
	ID string    `bson:"_id"` // the request's
	At time.Time `bson:"at"`
}

// escalated says which of the requests ids went up already.
func (s *mongoStore) escalated(ctx context.Context, ids []string) (map[string]bool, error) {
	sent, err := findWhere[escalationDoc](ctx, s.escalations, where{IDs: ids})
	out := make(map[string]bool, len(sent))
	for _, d := range sent {
		out[d.ID] = true
	}
	return out, err
}

// markEscalated records that the requests ids went up at t, and says of
// each whether this call recorded it (false: another did first).
func (s *mongoStore) markEscalated(ctx context.Context, ids []string, t time.Time) ([]bool, error) {
	marks := make([]escalationDoc, len(ids))
	for i, id := range ids {
		marks[i] = escalationDoc{ID: id, At: t}
	}
	return store.InsertNew(ctx, s.escalations, marks)
}

// ---- batch runs ----

type pairDoc struct {
	RequestID  string  `bson:"r"`
	MentorID   string  `bson:"m"`
	Learners   int     `bson:"n"`
	DistanceKm float64 `bson:"d"`
}

type summaryDoc struct {
	Requests          int            `bson:"requests"`
	Learners          int            `bson:"learners"`
	ServedRequests    int            `bson:"served_requests"`
	ServedLearners    int            `bson:"served_learners"`
	UnservedLearners  map[string]int `bson:"unserved_learners"`
	Mentors           int            `bson:"mentors"`
	MentorsUnderQuota int            `bson:"mentors_under_quota"`
	MissingSlots      int            `bson:"missing_slots"`
	UnderQuotaWhy     map[string]int `bson:"under_quota_why"`
	TotalDistanceKm   float64        `bson:"total_distance_km"`
	MeanDistanceKm    float64        `bson:"mean_distance_km"`
	TookMS            int64          `bson:"took_ms"`
}

type runDoc struct {
	ID         string     `bson:"_id"`
	Status     string     `bson:"status"`
	ScopeID    string     `bson:"scope_id"`
	CommuneIDs []string   `bson:"commune_ids"`
	Cells      []string   `bson:"cells"`
	CreatedBy  string     `bson:"created_by"`
	CreatedAt  time.Time  `bson:"created_at"`
	Pairs      []pairDoc  `bson:"pairs"`
	Summary    summaryDoc `bson:"summary"`
}

type decisionDoc struct {
	RunID     string    `bson:"_id"`
	Decision  string    `bson:"decision"`
	By        string    `bson:"by"`
	At        time.Time `bson:"at"`
	Applied   int       `bson:"applied"`
	Skipped   int       `bson:"skipped"`
	Completed bool      `bson:"completed"`
}

func (s *mongoStore) insertRun(ctx context.Context, r Run) error {
	d := runDoc{ID: r.ID, Status: r.Status, ScopeID: r.Area.ScopeID, CommuneIDs: r.Area.CommuneIDs, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		Pairs: make([]pairDoc, len(r.Pairs)), Summary: toSummaryDoc(r.Summary)}
	for _, c := range r.Area.Cells {
		d.Cells = append(d.Cells, c.String())
	}
	for i, p := range r.Pairs {
		d.Pairs[i] = pairDoc(p)
	}
	_, err := s.runs.InsertOne(ctx, d)
	return store.WrapMongo(err)
}

func (s *mongoStore) run(ctx context.Context, id string) (Run, error) {
	d, err := byID[runDoc](ctx, s.runs, id)
	if err != nil {
		return Run{}, err
	}
	r := Run{ID: d.ID, Status: d.Status, Area: Area{ScopeID: d.ScopeID, CommuneIDs: d.CommuneIDs}, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt,
		Pairs: make([]Pair, len(d.Pairs)), Summary: Summary{Requests: d.Summary.Requests, Learners: d.Summary.Learners,
			ServedRequests: d.Summary.ServedRequests, ServedLearners: d.Summary.ServedLearners, UnservedLearners: d.Summary.UnservedLearners,
			Mentors: d.Summary.Mentors, MentorsUnderQuota: d.Summary.MentorsUnderQuota, MissingSlots: d.Summary.MissingSlots,
			UnderQuotaWhy: d.Summary.UnderQuotaWhy, TotalDistanceKm: d.Summary.TotalDistanceKm, MeanDistanceKm: d.Summary.MeanDistanceKm,
			Took: time.Duration(d.Summary.TookMS) * time.Millisecond}}
	for _, c := range d.Cells {
		if cell, err := geo.ParseCell(c, -1); err == nil {
			r.Area.Cells = append(r.Area.Cells, cell)
		}
	}
	for i, p := range d.Pairs {
		r.Pairs[i] = Pair(p)
	}
	dec, err := byID[decisionDoc](ctx, s.decisions, id)
	switch {
	case err == nil:
		r.Decision, r.DecidedBy, r.DecidedAt, r.Applied, r.Skipped = dec.Decision, dec.By, dec.At, dec.Applied, dec.Skipped
	case !errors.Is(err, ErrNotFound):
		return Run{}, err
	}
	return r, nil
}

// completeRun writes the computed proposal into its run; only the
// goroutine that computes it writes it.
func (s *mongoStore) completeRun(ctx context.Context, id, status string, pairs []Pair, sum Summary) error {
	pd := make([]pairDoc, len(pairs))
	for i, p := range pairs {
		pd[i] = pairDoc(p)
	}
	_, err := s.runs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: status}, {Key: "pairs", Value: pd}, {Key: "summary", Value: toSummaryDoc(sum)}}}})
	return store.WrapMongo(err)
}

func toSummaryDoc(s Summary) summaryDoc {
	return summaryDoc{Requests: s.Requests, Learners: s.Learners, ServedRequests: s.ServedRequests,
		ServedLearners: s.ServedLearners, UnservedLearners: s.UnservedLearners, Mentors: s.Mentors,
		MentorsUnderQuota: s.MentorsUnderQuota, MissingSlots: s.MissingSlots, UnderQuotaWhy: s.UnderQuotaWhy,
		TotalDistanceKm: s.TotalDistanceKm, MeanDistanceKm: s.MeanDistanceKm, TookMS: s.Took.Milliseconds()}
}

// decide records the first decision on a run; ErrDecided if there is one.
func (s *mongoStore) decide(ctx context.Context, id, decision, by string, at time.Time) error {
	_, err := s.decisions.InsertOne(ctx, decisionDoc{RunID: id, Decision: decision, By: by, At: at})
	err = store.WrapMongo(err)
	if errors.Is(err, store.ErrDuplicate) {
		return ErrDecided
	}
	return err
}

func (s *mongoStore) recordApply(ctx context.Context, id string, applied, skipped int) error {
	_, err := s.decisions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "applied", Value: applied}, {Key: "skipped", Value: skipped}, {Key: "completed", Value: true}}}})
	return store.WrapMongo(err)
}
