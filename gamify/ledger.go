package gamify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/store"
)

// Reasons for points, each with its base points. Nothing a client sends
// sets points: every award names a fact the server established.
const (
	ReasonSession      = "session_confirmed"   // a session confirmed by the other side
	ReasonOutcome      = "learner_outcome"     // a learner's first VNeID activation, e-payment, ... in a confirmed session
	ReasonCertified    = "learner_certified"   // a learner completed the core topics
	ReasonFamily       = "household_digital"   // a household became a Gia đình số
	ReasonQuotaReached = "mentor_reached_five" // a mentor has five learners with confirmed sessions
)

// BasePoints are the points of each reason before multipliers.
var BasePoints = map[string]int{
	ReasonSession:      10,
	ReasonOutcome:      5,
	ReasonCertified:    30,
	ReasonFamily:       20,
	ReasonQuotaReached: 50,
}

// Who is the volunteer an award goes to, as the boards need them: the
// units they count for and the display names of the top lists.
type Who struct {
	VolunteerID  string
	Name         string // the volunteer's first name
	BranchID     string
	BranchName   string
	CommuneID    string
	CommuneName  string
	ProvinceCode string
	CommuneCode  string
}

// Credit is what an award earned in one campaign.
type Credit struct {
	Campaign string
	Points   int
}

// Entry is one immutable award of the ledger. ID is the source key that
// makes it unique.
type Entry struct {
	ID      string
	Reason  string
	Source  string // the session, learner or household the fact is about
	Points  int    // base points
	At      time.Time
	Who     Who
	Credits []Credit
}

// Award is a fact that earns points.
type Award struct {
	Key    string // unique source key, e.g. "session:<id>"
	Reason string
	Source string
	Who    Who
	At     time.Time // when the fact happened (the confirmation time)
}

// Award records a as a ledger entry, exactly once per key, and adds it to
// the boards. made is false when the key had been awarded before (nothing
// changes then). A board write that fails does not fail the award: the
// ledger is the truth, and the boards are rebuilt from it (Maintain).
func (s *Service) Award(ctx context.Context, a Award) (e Entry, made bool, err error) {
	base, ok := BasePoints[a.Reason]
	if !ok || a.Key == "" || a.Who.VolunteerID == "" {
		return Entry{}, false, fmt.Errorf("gamify: bad award %q (%s)", a.Key, a.Reason)
	}
	at := a.At.UTC().Truncate(time.Millisecond)
	e = Entry{ID: a.Key, Reason: a.Reason, Source: a.Source, Points: base, At: at, Who: a.Who}
	if e.Credits, err = s.campaigns.creditsOf(ctx, s.now(), e); err != nil {
		return Entry{}, false, err
	}
	// Answered once the award's group is written, even past ctx's end
	// (store.Grouper); on an error the ledger may hold it or not, and a
	// retry under the same key finds out.
	fresh, err := s.writer.Insert(ctx, e)
	if err != nil {
		return Entry{}, false, err
	}
	if !fresh[0] {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// ---- store ----

type ledger struct{ coll *mongo.Collection }

// entryDoc is an entry as the ledger keeps it. What people and audits ask
// of an entry (its key, reason, source, points, time and volunteer) are
// fields of their own; what only the boards need (the volunteer's name,
// branch, commune and province at the time, and the credits per campaign)
// is the document boards. A rebuild reads the whole ledger, with
// entryDecoder.
type entryDoc struct {
	ID        string    `bson:"_id"`
	Reason    string    `bson:"reason"`
	Source    string    `bson:"source"`
	Points    int       `bson:"points"`
	At        time.Time `bson:"at"`
	Volunteer string    `bson:"volunteer"`
	// Boards is a boardsDoc; the second layout kept it as a JSON string
	// (boardsJSON), still read until UpgradeLedger has rewritten it.
	Boards bson.RawValue `bson:"boards,omitempty"`

	// The first layout.
	Who     *whoDoc     `bson:"who,omitempty"`
	Credits []creditDoc `bson:"credits,omitempty"`
}

// boardsDoc is the boards field of an entry.
type boardsDoc struct {
	Name         string      `bson:"name"`
	BranchID     string      `bson:"branch_id"`
	BranchName   string      `bson:"branch_name"`
	CommuneID    string      `bson:"commune_id"`
	CommuneName  string      `bson:"commune_name"`
	ProvinceCode string      `bson:"province_code"`
	CommuneCode  string      `bson:"commune_code"`
	Credits      []creditDoc `bson:"credits"`
}

// boardsJSON is the boards field of the second layout, a JSON string.
type boardsJSON struct {
	Name        string       `json:"n,omitempty"`
	Branch      string       `json:"b,omitempty"`
	BranchName  string       `json:"bn,omitempty"`
	Commune     string       `json:"c,omitempty"`
	CommuneName string       `json:"cn,omitempty"`
	Province    string       `json:"p,omitempty"`
	CommuneCode string       `json:"cc,omitempty"`
	Credits     []creditJSON `json:"cr"` // campaign and points
}

// creditJSON is a credit of the second layout, a pair: ["all",10].
type creditJSON Credit

func (c *creditJSON) UnmarshalJSON(b []byte) error {
	var pair []any
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("a credit is a campaign and points, not %s", b)
	}
	campaign, ok := pair[0].(string)
	points, isNumber := pair[1].(float64)
	if !ok || !isNumber || points != math.Trunc(points) || math.Abs(points) > 1<<53 {
		return fmt.Errorf("a credit is a campaign and points, not %s", b)
	}
	c.Campaign, c.Points = campaign, int(points)
	return nil
}

// whoDoc and creditDoc are the first layout's.
type whoDoc struct {
	VolunteerID  string `bson:"volunteer_id"`
	Name         string `bson:"name"`
	BranchID     string `bson:"branch_id"`
	BranchName   string `bson:"branch_name"`
	CommuneID    string `bson:"commune_id"`
	CommuneName  string `bson:"commune_name"`
	ProvinceCode string `bson:"province_code"`
	CommuneCode  string `bson:"commune_code"`
}

type creditDoc struct {
	Campaign string `bson:"campaign"`
	Points   int    `bson:"points"`
}

func toEntryDoc(e Entry) entryDoc {
	b := boardsDoc{Name: e.Who.Name, BranchID: e.Who.BranchID, BranchName: e.Who.BranchName, CommuneID: e.Who.CommuneID,
		CommuneName: e.Who.CommuneName, ProvinceCode: e.Who.ProvinceCode, CommuneCode: e.Who.CommuneCode, Credits: []creditDoc{}}
	for _, c := range e.Credits {
		b.Credits = append(b.Credits, creditDoc(c))
	}
	raw, err := bson.Marshal(b)
	if err != nil { // strings and ints only
		panic(err)
	}
	return entryDoc{ID: e.ID, Reason: e.Reason, Source: e.Source, Points: e.Points, At: e.At, Volunteer: e.Who.VolunteerID,
		Boards: bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: raw}}
}

func (d entryDoc) entry() (Entry, error) {
	e := Entry{ID: d.ID, Reason: d.Reason, Source: d.Source, Points: d.Points, At: d.At.UTC()}
	var b boardsDoc
	switch {
	case d.Who != nil: // the first layout
		e.Who = Who(*d.Who)
		for _, c := range d.Credits {
			e.Credits = append(e.Credits, Credit(c))
		}
		return e, nil
	case d.Boards.Type == bson.TypeEmbeddedDocument:
		if err := bson.Unmarshal(d.Boards.Value, &b); err != nil {
			return Entry{}, fmt.Errorf("gamify: ledger entry %q: boards: %w", d.ID, err)
		}
	case d.Boards.Type == bson.TypeString: // the second layout
		var j boardsJSON
		if err := json.Unmarshal([]byte(d.Boards.StringValue()), &j); err != nil {
			return Entry{}, fmt.Errorf("gamify: ledger entry %q: boards: %w", d.ID, err)
		}
		b = boardsDoc{Name: j.Name, BranchID: j.Branch, BranchName: j.BranchName, CommuneID: j.Commune, CommuneName: j.CommuneName,
			ProvinceCode: j.Province, CommuneCode: j.CommuneCode}
		for _, c := range j.Credits {
			b.Credits = append(b.Credits, creditDoc(c))
		}
	default:
		return Entry{}, fmt.Errorf("gamify: ledger entry %q: no boards", d.ID)
	}
	e.Who = Who{VolunteerID: d.Volunteer, Name: b.Name, BranchID: b.BranchID, BranchName: b.BranchName, CommuneID: b.CommuneID,
		CommuneName: b.CommuneName, ProvinceCode: b.ProvinceCode, CommuneCode: b.CommuneCode}
	for _, c := range b.Credits {
		e.Credits = append(e.Credits, Credit(c))
	}
	return e, nil
}

func entries(docs []entryDoc) ([]Entry, error) {
	out := make([]Entry, len(docs))
	for i, d := range docs {
		e, err := d.entry()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// getMany returns the entries of ids that exist, in one query: a rebuild
// that drained late awards one query each fell behind
// (TestRedisKilledDuringAwards; docs/PERFORMANCE.md, "late awards").
func (l *ledger) getMany(ctx context.Context, ids []string) (map[string]Entry, error) {
	docs, err := store.FindAll[entryDoc](ctx, l.coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	es, err := entries(docs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Entry, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

// of returns a volunteer's entries, oldest first.
func (l *ledger) of(ctx context.Context, volunteerID string) ([]Entry, error) {
	docs, err := store.FindAll[entryDoc](ctx, l.coll, bson.D{{Key: "volunteer", Value: volunteerID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	return entries(docs)
}

// each streams every entry to f in batches, in no particular order. Three
// goroutines take turns on a batch: one reads the next while another
// decodes this one and f deals with the one before: a rebuild that asked
// the store for the next batch only once f was done kept one core busy at
// a time.
func (l *ledger) each(ctx context.Context, batch int, f func([]Entry) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	raws := make(chan []bson.Raw, 8)
	var readErr error
	go func() {
		defer close(raws)
		readErr = l.read(ctx, batch, func(docs []bson.Raw) bool {
			select {
			case raws <- docs:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	type decoded struct {
		es  []Entry
		err error
	}
	batches := make(chan decoded, 8)
	go func() {
		defer close(batches) // after raws is closed: the reader has ended
		var dec entryDecoder
		for docs := range raws {
			es, err := dec.entries(docs)
			batches <- decoded{es, err}
			if err != nil {
				for range raws { // the reader stops at its next batch
				}
			}
		}
	}()
	n := 0
	for d := range batches {
		err := d.err
		if err == nil {
			err = f(d.es)
		}
		if err != nil {
			cancel()
			for range batches {
			}
			return n, err
		}
		n += len(d.es)
	}
	return n, readErr // the reader has ended: batches is closed
}

// entries decodes a batch the fast way where it can, else the general
// way (decodeEntry).
func (dec *entryDecoder) entries(docs []bson.Raw) ([]Entry, error) {
	out := make([]Entry, len(docs))
	for i, raw := range docs {
		e, ok := dec.decode(raw)
		if !ok {
			var err error
			if e, err = decodeEntry(raw); err != nil {
				return nil, err
			}
		}
		out[i] = e
	}
	return out, nil
}

// decodeEntry decodes an entry of either layout.
func decodeEntry(raw bson.Raw) (Entry, error) {
	var d entryDoc
	if err := bson.Unmarshal(raw, &d); err != nil {
		return Entry{}, fmt.Errorf("gamify: ledger entry: %w", err)
	}
	return d.entry()
}

// read gives every entry, undecoded, to put in batches until put says to
// stop, with an aggregation without stages (docs/PERFORMANCE.md, "ledger
// reads").
func (l *ledger) read(ctx context.Context, batch int, put func([]bson.Raw) bool) error {
	cur, err := l.coll.Aggregate(ctx, bson.A{}, options.Aggregate().SetBatchSize(int32(batch)))
	if err != nil {
		return store.WrapMongo(err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	buf := make([]bson.Raw, 0, batch)
	for cur.Next(ctx) {
		buf = append(buf, slices.Clone(cur.Current))
		if len(buf) == batch {
			if !put(buf) {
				return ctx.Err()
			}
			buf = make([]bson.Raw, 0, batch)
		}
	}
	if err := cur.Err(); err != nil {
		return store.WrapMongo(err)
	}
	if len(buf) > 0 && !put(buf) {
		return ctx.Err()
	}
	return nil
}

// anonymize takes a volunteer out of their entries: the entries stay, so
// their branch's and commune's points stay true, but name no one. Source
// ids (sessions, households) are dropped too. The name is inside the
// boards field, so each entry is rewritten whole; where the store loses
// concurrent updates, a household's erasure at the same moment
// (forgetSource) may write an entry back as it was, so the entries are
// looked for again until none names the volunteer.
func (l *ledger) anonymize(ctx context.Context, volunteerID string) error {
	for range 3 {
		docs, err := store.FindAll[entryDoc](ctx, l.coll, bson.D{{Key: "volunteer", Value: volunteerID}})
		if err != nil || len(docs) == 0 {
			return err
		}
		es, err := entries(docs)
		if err != nil {
			return err
		}
		models := make([]mongo.WriteModel, len(es))
		for i, e := range es {
			e.Who.VolunteerID, e.Who.Name, e.Source = "", "", ""
			models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: e.ID}}).SetReplacement(toEntryDoc(e))
		}
		if _, err := l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return store.WrapMongo(err)
		}
	}
	return fmt.Errorf("gamify: the ledger still names volunteer %q after three passes", volunteerID)
}

// ledgerLayout is the layout entries are written in (entryDoc): 1 had who
// and credits as nested documents, 2 the boards as a JSON string.
const ledgerLayout = 3

// oldLayouts matches the entries of earlier layouts.
var oldLayouts = bson.D{{Key: "$or", Value: bson.A{
	bson.D{{Key: "who", Value: bson.D{{Key: "$exists", Value: true}}}},
	bson.D{{Key: "boards", Value: bson.D{{Key: "$type", Value: "string"}}}},
}}}

// current says whether the ledger holds only entries of this layout: the
// document "ledger_layout" in meta records it once found, so that a start
// does not scan the ledger again.
func (l *ledger) current(ctx context.Context, meta *mongo.Collection) (bool, error) {
	var m struct {
		Layout int `bson:"layout"`
	}
	err := meta.FindOne(ctx, bson.D{{Key: "_id", Value: "ledger_layout"}}).Decode(&m)
	if err == nil && m.Layout >= ledgerLayout {
		return true, nil
	}
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return false, store.WrapMongo(err)
	}
	err = l.coll.FindOne(ctx, oldLayouts, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return false, store.WrapMongo(err)
	}
	return true, l.setLayout(ctx, meta)
}

func (l *ledger) setLayout(ctx context.Context, meta *mongo.Collection) error {
	_, err := meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: "ledger_layout"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "layout", Value: ledgerLayout}}}}, options.UpdateOne().SetUpsert(true))
	return store.WrapMongo(err)
}

// upgrade rewrites the entries of earlier layouts in this one, and then
// records that the ledger is current. Instances may run it at once (each
// rewrite names the earlier layouts in its filter), but no instance of an
// earlier version may write entries after it. It returns how many entries
// it rewrote.
func (l *ledger) upgrade(ctx context.Context, meta *mongo.Collection) (int, error) {
	old := oldLayouts
	const batch = 500
	cur, err := l.coll.Find(ctx, old, options.Find().SetBatchSize(batch))
	if err != nil {
		return 0, store.WrapMongo(err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	n := 0
	var models []mongo.WriteModel
	flush := func() error {
		if len(models) == 0 {
			return nil
		}
		_, err := l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		n += len(models)
		models = models[:0]
		return store.WrapMongo(err)
	}
	for cur.Next(ctx) {
		var d entryDoc
		if err := cur.Decode(&d); err != nil {
			return n, fmt.Errorf("gamify: ledger entry: %w", err)
		}
		e, err := d.entry()
		if err != nil {
			return n, err
		}
		models = append(models, mongo.NewReplaceOneModel().SetFilter(append(bson.D{{Key: "_id", Value: d.ID}}, old...)).SetReplacement(toEntryDoc(e)))
		if len(models) == batch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return n, store.WrapMongo(err)
	}
	if err := flush(); err != nil {
		return n, err
	}
	// The first layout's index by volunteer; a ledger that never had it
	// answers NamespaceNotFound or IndexNotFound.
	var se mongo.ServerError
	if err := l.coll.Indexes().DropOne(ctx, "who.volunteer_id_1_at_1"); err != nil && !(errors.As(err, &se) && (se.HasErrorCode(26) || se.HasErrorCode(27))) {
		return n, store.WrapMongo(err)
	}
	return n, l.setLayout(ctx, meta)
}

// credits are what an entry earns in each campaign that covers it.
func credits(list []Campaign, e Entry) []Credit {
	var out []Credit
	for _, c := range list {
		if c.covers(e.Who, e.At) {
			out = append(out, Credit{Campaign: c.ID, Points: int(math.Round(float64(e.Points) * c.factor(e.At)))})
		}
	}
	return out
}

// forgetSource drops a household's id from the entries it was the source
// of; the points stay.
func (l *ledger) forgetSource(ctx context.Context, source string) error {
	_, err := l.coll.UpdateMany(ctx, bson.D{{Key: "source", Value: source}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "source", Value: ""}}}})
	return store.WrapMongo(err)
}
