package gamify

import (
	"context"
	"fmt"
	"math"
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
	list, err := s.campaigns.all(ctx, s.now())
	if err != nil {
		return Entry{}, false, err
	}
	e = Entry{ID: a.Key, Reason: a.Reason, Source: a.Source, Points: base, At: at, Who: a.Who}
	e.Credits = credits(list, e)
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

type entryDoc struct {
	ID      string      `bson:"_id"`
	Reason  string      `bson:"reason"`
	Source  string      `bson:"source"`
	Points  int         `bson:"points"`
	At      time.Time   `bson:"at"`
	Who     whoDoc      `bson:"who"`
	Credits []creditDoc `bson:"credits"`
}

func toEntryDoc(e Entry) entryDoc {
	d := entryDoc{ID: e.ID, Reason: e.Reason, Source: e.Source, Points: e.Points, At: e.At, Who: whoDoc(e.Who)}
	for _, c := range e.Credits {
		d.Credits = append(d.Credits, creditDoc(c))
	}
	return d
}

func (d entryDoc) entry() Entry {
	e := Entry{ID: d.ID, Reason: d.Reason, Source: d.Source, Points: d.Points, At: d.At.UTC(), Who: Who(d.Who)}
	for _, c := range d.Credits {
		e.Credits = append(e.Credits, Credit(c))
	}
	return e
}

// getMany returns the entries of ids that exist, in one query: on FerretDB
// one point lookup costs about as much as a scan of thousands of entries,
// so a rebuild that drained late awards one by one fell behind (measured
// by TestRedisKilledDuringAwards: 3,300 late awards took over a minute).
func (l *ledger) getMany(ctx context.Context, ids []string) (map[string]Entry, error) {
	docs, err := store.FindAll[entryDoc](ctx, l.coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Entry, len(docs))
	for _, d := range docs {
		out[d.ID] = d.entry()
	}
	return out, nil
}

// of returns a volunteer's entries, oldest first.
func (l *ledger) of(ctx context.Context, volunteerID string) ([]Entry, error) {
	docs, err := store.FindAll[entryDoc](ctx, l.coll, bson.D{{Key: "who.volunteer_id", Value: volunteerID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(docs))
	for i, d := range docs {
		out[i] = d.entry()
	}
	return out, nil
}

// each streams every entry to f in batches, in no particular order. The
// next batch is read while f deals with this one: on FerretDB the store
// decodes a batch in its own goroutine only when asked for it, and a
// rebuild that asked only once f was done kept one core busy at a time.
func (l *ledger) each(ctx context.Context, batch int, f func([]Entry) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Entry, 2)
	var readErr error
	go func() {
		defer close(batches)
		readErr = l.read(ctx, batch, func(es []Entry) bool {
			select {
			case batches <- es:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	n := 0
	for es := range batches {
		if err := f(es); err != nil {
			cancel()
			for range batches { // the reader stops at its next batch
			}
			return n, err
		}
		n += len(es)
	}
	return n, readErr // the reader has ended: batches is closed
}

// read gives every entry to put in batches until put says to stop.
func (l *ledger) read(ctx context.Context, batch int, put func([]Entry) bool) error {
	cur, err := l.coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(int32(batch)))
	if err != nil {
		return store.WrapMongo(err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	buf := make([]Entry, 0, batch)
	for cur.Next(ctx) {
		var d entryDoc
		if err := cur.Decode(&d); err != nil {
			return err
		}
		buf = append(buf, d.entry())
		if len(buf) == batch {
			if !put(buf) {
				return ctx.Err()
			}
			buf = make([]Entry, 0, batch)
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
// ids (sessions, households) are dropped too.
func (l *ledger) anonymize(ctx context.Context, volunteerID string) error {
	_, err := l.coll.UpdateMany(ctx, bson.D{{Key: "who.volunteer_id", Value: volunteerID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "who.volunteer_id", Value: ""}, {Key: "who.name", Value: ""}, {Key: "source", Value: ""}}}})
	return store.WrapMongo(err)
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
