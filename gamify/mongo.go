package gamify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/errs"
	"daisuso/store"
)

// What gamify keeps in MongoDB:
//
//	ledger          the points ledger: one insert-only entry per award, _id
//	                its key (entryDoc)
//	gamify_meta     the ledger's layout, once found current
//	badges          _id "<volunteer>#<badge code>": a badge earned, once
//	campaigns       the campaigns
//	campaign_slots  _id "<scope>#<n>": the running campaigns of a scope, at
//	                most MaxActiveCampaigns
//
// The boards are in Redis (boards.go, standings.go).

// ---- the ledger ----

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
	Place   placeDoc    `bson:",inline"`
	Credits []creditDoc `bson:"credits"`
}

// placeDoc is who earned an entry as the boards place them: the
// volunteer's name and units at the time.
type placeDoc struct {
	Name         string `bson:"name"`
	BranchID     string `bson:"branch_id"`
	BranchName   string `bson:"branch_name"`
	CommuneID    string `bson:"commune_id"`
	CommuneName  string `bson:"commune_name"`
	ProvinceCode string `bson:"province_code"`
	CommuneCode  string `bson:"commune_code"`
}

func toPlaceDoc(w Who) placeDoc {
	return placeDoc{Name: w.Name, BranchID: w.BranchID, BranchName: w.BranchName, CommuneID: w.CommuneID,
		CommuneName: w.CommuneName, ProvinceCode: w.ProvinceCode, CommuneCode: w.CommuneCode}
}

func (p placeDoc) who(volunteerID string) Who {
	return Who{VolunteerID: volunteerID, Name: p.Name, BranchID: p.BranchID, BranchName: p.BranchName, CommuneID: p.CommuneID,
		CommuneName: p.CommuneName, ProvinceCode: p.ProvinceCode, CommuneCode: p.CommuneCode}
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
	VolunteerID string   `bson:"volunteer_id"`
	Place       placeDoc `bson:",inline"`
}

type creditDoc struct {
	Campaign string `bson:"campaign"`
	Points   int    `bson:"points"`
}

func toEntryDoc(e Entry) entryDoc {
	b := boardsDoc{Place: toPlaceDoc(e.Who), Credits: []creditDoc{}}
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
		e.Who = d.Who.Place.who(d.Who.VolunteerID)
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
		b.Place = placeDoc{Name: j.Name, BranchID: j.Branch, BranchName: j.BranchName, CommuneID: j.Commune, CommuneName: j.CommuneName,
			ProvinceCode: j.Province, CommuneCode: j.CommuneCode}
		for _, c := range j.Credits {
			b.Credits = append(b.Credits, creditDoc(c))
		}
	default:
		return Entry{}, fmt.Errorf("gamify: ledger entry %q: no boards", d.ID)
	}
	e.Who = b.Place.who(d.Volunteer)
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

// forgetSource drops a household's id from the entries it was the source
// of; the points stay.
func (l *ledger) forgetSource(ctx context.Context, source string) error {
	_, err := l.coll.UpdateMany(ctx, bson.D{{Key: "source", Value: source}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "source", Value: ""}}}})
	return store.WrapMongo(err)
}

// ---- badges ----

type badgeStore struct{ coll *mongo.Collection }

type badgeDoc struct {
	ID          string    `bson:"_id"` // volunteer#code
	VolunteerID string    `bson:"volunteer_id"`
	Code        string    `bson:"code"`
	EarnedAt    time.Time `bson:"earned_at"`
	Why         string    `bson:"why"` // English; what the first badges kept
	WhyVI       string    `bson:"why_vi,omitempty"`
}

func (b *badgeStore) insert(ctx context.Context, volunteerID string, e Earned) (bool, error) {
	_, err := b.coll.InsertOne(ctx, badgeDoc{ID: volunteerID + "#" + e.Code, VolunteerID: volunteerID, Code: e.Code, EarnedAt: e.EarnedAt, Why: e.WhyEN, WhyVI: e.WhyVI})
	err = store.WrapMongo(err)
	if errors.Is(err, store.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}

func (b *badgeStore) of(ctx context.Context, volunteerID string) ([]Earned, error) {
	docs, err := store.FindAll[badgeDoc](ctx, b.coll, bson.D{{Key: "volunteer_id", Value: volunteerID}},
		options.Find().SetSort(bson.D{{Key: "earned_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make([]Earned, 0, len(docs))
	for _, d := range docs {
		e := Earned{Code: d.Code, EarnedAt: d.EarnedAt.UTC(), WhyVI: d.WhyVI, WhyEN: d.Why}
		if e.WhyVI == "" {
			e.WhyVI = d.Why // a badge from before the reasons were kept in Vietnamese
		}
		if i := slices.IndexFunc(BadgeRules, func(b Badge) bool { return b.Code == d.Code }); i >= 0 {
			e.VI, e.EN = BadgeRules[i].VI, BadgeRules[i].EN
		}
		out = append(out, e)
	}
	return out, nil
}

func (b *badgeStore) deleteOf(ctx context.Context, volunteerID string) error {
	_, err := b.coll.DeleteMany(ctx, bson.D{{Key: "volunteer_id", Value: volunteerID}})
	return store.WrapMongo(err)
}

// ---- campaigns ----

type campaignDoc struct {
	ID          string          `bson:"_id"`
	Name        string          `bson:"name"`
	ScopeKind   string          `bson:"scope_kind"`
	ScopeCode   string          `bson:"scope_code"`
	StartsAt    time.Time       `bson:"starts_at"`
	EndsAt      time.Time       `bson:"ends_at"`
	Multipliers []multiplierDoc `bson:"multipliers"`
	Targets     map[string]int  `bson:"targets"`
	CreatedBy   string          `bson:"created_by"`
	CreatedAt   time.Time       `bson:"created_at"`
}

type multiplierDoc struct {
	Date   string  `bson:"date"`
	Factor float64 `bson:"factor"`
}

func toCampaignDoc(c Campaign) campaignDoc {
	d := campaignDoc{ID: c.ID, Name: c.Name, ScopeKind: c.ScopeKind, ScopeCode: c.ScopeCode, StartsAt: c.StartsAt,
		EndsAt: c.EndsAt, Targets: c.Targets, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
	for _, m := range c.Multipliers {
		d.Multipliers = append(d.Multipliers, multiplierDoc(m))
	}
	return d
}

func (d campaignDoc) campaign() Campaign {
	c := Campaign{ID: d.ID, Name: d.Name, ScopeKind: d.ScopeKind, ScopeCode: d.ScopeCode, StartsAt: d.StartsAt.UTC(),
		EndsAt: d.EndsAt.UTC(), Targets: d.Targets, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC()}
	for _, m := range d.Multipliers {
		c.Multipliers = append(c.Multipliers, Multiplier(m))
	}
	return c
}

// campaigns keeps the campaigns collection and a copy in memory, refreshed
// at most every refresh: there are few campaigns and they never change, so
// an award does not read the collection.
type campaigns struct {
	coll *mongo.Collection
	// slots: _id "<scope>#<n>", n below MaxActiveCampaigns, held by a
	// campaign until it ends: insert-only places that a unique key gives
	// out once, so concurrent creations cannot pass the limit.
	slots   *mongo.Collection
	refresh time.Duration
	mu      sync.Mutex
	list    []Campaign
	byScope map[string][]Campaign // the list by Scope(), latest end first
	loaded  time.Time
}

func (cs *campaigns) all(ctx context.Context, now time.Time) ([]Campaign, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.list != nil && now.Sub(cs.loaded) < cs.refresh {
		return cs.list, nil
	}
	docs, err := store.FindAll[campaignDoc](ctx, cs.coll, bson.D{}, options.Find().SetSort(bson.D{{Key: "starts_at", Value: -1}}))
	if err != nil {
		return nil, err
	}
	list := []Campaign{allTime}
	byScope := map[string][]Campaign{}
	for _, d := range docs {
		c := d.campaign()
		list = append(list, c)
		byScope[c.Scope()] = append(byScope[c.Scope()], c)
	}
	for _, l := range byScope {
		slices.SortFunc(l, func(a, b Campaign) int { return b.EndsAt.Compare(a.EndsAt) })
	}
	cs.list, cs.byScope, cs.loaded = list, byScope, now
	return list, nil
}

// creditsOf are what an entry earns in each campaign that covers it,
// looking only at the campaigns of the scopes its volunteer is in (the
// nation, their province, their commune), and of those only at the ones
// still running when it happened: an award costs the same however many
// campaigns other units run or ran.
func (cs *campaigns) creditsOf(ctx context.Context, now time.Time, e Entry) ([]Credit, error) {
	if _, err := cs.all(ctx, now); err != nil {
		return nil, err
	}
	cs.mu.Lock()
	byScope := cs.byScope
	cs.mu.Unlock()
	out := credits([]Campaign{allTime}, e)
	for _, scope := range []string{ScopeNational, ScopeProvince + ":" + e.Who.ProvinceCode, ScopeCommune + ":" + e.Who.CommuneCode} {
		for _, c := range byScope[scope] {
			if !c.EndsAt.After(e.At) {
				break // this one and the rest ended before it happened
			}
			out = append(out, credits([]Campaign{c}, e)...)
		}
	}
	return out, nil
}

// find returns the campaign with id. An id not in the copy may be a
// campaign made on another instance since the last refresh: the
// collection is read again, at most once a second (ids are what a client
// sends).
func (cs *campaigns) find(ctx context.Context, id string, now time.Time) (Campaign, error) {
	for range 2 {
		list, err := cs.all(ctx, now)
		if err != nil {
			return Campaign{}, err
		}
		if i := slices.IndexFunc(list, func(c Campaign) bool { return c.ID == id }); i >= 0 {
			return list[i], nil
		}
		cs.mu.Lock()
		stale := now.Sub(cs.loaded) >= time.Second
		if stale {
			cs.list = nil
		}
		cs.mu.Unlock()
		if !stale {
			break
		}
	}
	return Campaign{}, ErrNotFound
}

type campaignSlotDoc struct {
	ID       string    `bson:"_id"`
	Campaign string    `bson:"campaign"`
	EndsAt   time.Time `bson:"ends_at"`
}

// takeSlot gives a campaign that has not ended one of its scope's
// MaxActiveCampaigns places, taking over a place whose campaign ended; a
// scope with every place held is refused.
func (cs *campaigns) takeSlot(ctx context.Context, c Campaign, now time.Time) error {
	if !c.EndsAt.After(now) {
		return nil // over already: it holds no place
	}
	for n := range MaxActiveCampaigns {
		id := c.Scope() + "#" + strconv.Itoa(n)
		for try := range 2 {
			_, err := cs.slots.InsertOne(ctx, campaignSlotDoc{ID: id, Campaign: c.ID, EndsAt: c.EndsAt})
			if err = store.WrapMongo(err); err == nil {
				return nil
			}
			if !errors.Is(err, store.ErrDuplicate) {
				return err
			}
			var held campaignSlotDoc
			err = cs.slots.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&held)
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue // freed meanwhile: try again
			}
			if err != nil {
				return store.WrapMongo(err)
			}
			if held.EndsAt.After(now) || try == 1 {
				break
			}
			// Its campaign is over: free the place (that very holder's).
			if _, err := cs.slots.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "campaign", Value: held.Campaign}}); err != nil {
				return store.WrapMongo(err)
			}
		}
	}
	return &errs.RuleError{Code: "too_many_active_campaigns", Field: "scope"}
}

// freeSlot gives back a campaign's place (its insert failed).
func (cs *campaigns) freeSlot(ctx context.Context, c Campaign) {
	_, _ = cs.slots.DeleteMany(ctx, bson.D{{Key: "campaign", Value: c.ID}})
}

func (cs *campaigns) insert(ctx context.Context, c Campaign) error {
	_, err := cs.coll.InsertOne(ctx, toCampaignDoc(c))
	if err := store.WrapMongo(err); err != nil {
		return err
	}
	cs.mu.Lock()
	cs.list = nil // reload at the next use
	cs.mu.Unlock()
	return nil
}
