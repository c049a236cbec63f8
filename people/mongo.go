package people

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store"
)

// EnsureIndexes creates the registry's indexes. Users, volunteers and
// households are read by _id; branches are listed by parent; volunteers and
// households are listed by scope (a branch admin's subtree) and, for
// matching, found by cell.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		{s.branches.coll, bson.D{{Key: "parent_id", Value: 1}, {Key: "_id", Value: 1}}},
		{s.volunteers.coll, bson.D{{Key: "scope", Value: 1}}},
		{s.volunteers.coll, bson.D{{Key: "cell", Value: 1}}},
		{s.households.coll, bson.D{{Key: "scope", Value: 1}}},
		{s.households.coll, bson.D{{Key: "commune_id", Value: 1}}},
		{s.households.coll, bson.D{{Key: "cell", Value: 1}}},
		{s.users.coll, bson.D{{Key: "branch_id", Value: 1}, {Key: "role", Value: 1}}},
		{s.branches.coll, bson.D{{Key: "ancestors", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.coll, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return err
		}
	}
	return nil
}

// ---- users ----

// userStore keeps users in "users", keyed by their id.
type userStore struct{ coll *mongo.Collection }

func newUserStore(db *mongo.Database) *userStore { return &userStore{coll: db.Collection("users")} }

type userDoc struct {
	ID        string    `bson:"_id"`
	Role      string    `bson:"role"`
	BranchID  string    `bson:"branch_id,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

func (s *userStore) get(ctx context.Context, id string) (User, error) {
	var d userDoc
	if err := recordByID(ctx, s.coll, id, &d); err != nil {
		return User{}, err
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

// at lists the ids of users of the roles whose branch is one of branchIDs.
func (s *userStore) at(ctx context.Context, branchIDs []string, roles []Role, limit int) ([]string, error) {
	rs := make(bson.A, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	docs, err := store.FindAll[userDoc](ctx, s.coll, bson.D{{Key: "branch_id", Value: bson.D{{Key: "$in", Value: branchIDs}}},
		{Key: "role", Value: bson.D{{Key: "$in", Value: rs}}}}, options.Find().SetLimit(int64(limit)).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}

// under lists the ids of the nodes below root (not root itself).
func (s *branchStore) under(ctx context.Context, root string, limit int) ([]string, error) {
	docs, err := store.FindAll[branchDoc](ctx, s.coll, bson.D{{Key: "ancestors", Value: root}},
		options.Find().SetLimit(int64(limit)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}

// subtree lists root's descendants (not root itself), at most limit.
func (s *branchStore) subtree(ctx context.Context, root string, limit int) ([]Branch, error) {
	return s.find(ctx, bson.D{{Key: "ancestors", Value: root}}, limit)
}

// find lists the nodes matching filter by id, at most limit.
func (s *branchStore) find(ctx context.Context, filter bson.D, limit int) ([]Branch, error) {
	docs, err := store.FindAll[branchDoc](ctx, s.coll, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := make([]Branch, len(docs))
	for i, d := range docs {
		out[i] = d.branch()
	}
	return out, nil
}

func (s *userStore) setBranch(ctx context.Context, id, branchID string) error {
	forget(ctx, s.coll, id)
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "branch_id", Value: branchID}}}})
	return store.WrapMongo(err)
}

func (s *userStore) delete(ctx context.Context, id string) error {
	forget(ctx, s.coll, id)
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// ---- claims: unique keys held by one owner ----

// claimStore keeps unique claims ("province:10", "commune:12345") as
// insert-only documents: the _id is the key, so of two concurrent claims
// exactly one wins, even on a store that loses concurrent updates.
type claimStore struct {
	coll *mongo.Collection
	now  func() time.Time
}

type claimDoc struct {
	Key   string    `bson:"_id"`
	Owner string    `bson:"owner"`
	At    time.Time `bson:"at,omitempty"`
}

// claim takes key for owner; claiming a key one already holds succeeds.
// A claim is held for good (unit codes, whose unit is made right after):
// errs.ErrConflict when another owner holds it.
func (s *claimStore) claim(ctx context.Context, key, owner string) error {
	_, err := s.coll.InsertOne(ctx, claimDoc{Key: key, Owner: owner, At: s.now().UTC().Truncate(time.Millisecond)})
	err = store.WrapMongo(err)
	if !errors.Is(err, store.ErrDuplicate) {
		return err
	}
	holder, err := s.owner(ctx, key)
	if err != nil {
		return err
	}
	if holder == owner {
		return nil
	}
	return errs.ErrConflict
}

// owner is who holds key ("" if nobody).
func (s *claimStore) owner(ctx context.Context, key string) (string, error) {
	var d claimDoc
	if err := findByID(ctx, s.coll, key, &d); err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return "", nil
		}
		return "", err
	}
	return d.Owner, nil
}

// release gives key up if owner holds it.
func (s *claimStore) release(ctx context.Context, key, owner string) error {
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: owner}})
	return store.WrapMongo(err)
}

// ---- branches ----

type branchStore struct{ coll *mongo.Collection }

// setUnit rewrites a union's unit: its name and kind, and for a commune
// moved to another code, the code.
func (s *branchStore) setUnit(ctx context.Context, id, name, kind, code string) error {
	set := bson.D{{Key: "name", Value: name}, {Key: "unit_kind", Value: kind}}
	if code != "" {
		set = append(set, bson.E{Key: "commune_code", Value: code})
	}
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return store.WrapMongo(err)
}

// relocate moves the located commune of every record from one code to
// another (a merged commune).
func (s *Service) relocate(ctx context.Context, from, to string) error {
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "located_code", Value: to}}}}
	for _, coll := range []*mongo.Collection{s.volunteers.coll, s.households.coll} {
		if _, err := coll.UpdateMany(ctx, bson.D{{Key: "located_code", Value: from}}, set); err != nil {
			return store.WrapMongo(err)
		}
	}
	return nil
}

// recodeUnder gives everything under a commune union (its branches and
// team, its volunteers and households) another commune code.
func (s *Service) recodeUnder(ctx context.Context, unionID, code string) error {
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "commune_code", Value: code}}}}
	for coll, filter := range map[*mongo.Collection]bson.D{
		s.branches.coll:   {{Key: "ancestors", Value: unionID}},
		s.volunteers.coll: {{Key: "commune_id", Value: unionID}},
		s.households.coll: {{Key: "commune_id", Value: unionID}},
	} {
		if _, err := coll.UpdateMany(ctx, filter, set); err != nil {
			return store.WrapMongo(err)
		}
	}
	return nil
}

type branchDoc struct {
	ID           string    `bson:"_id"`
	Kind         string    `bson:"kind"`
	Name         string    `bson:"name"`
	ParentID     string    `bson:"parent_id"`
	Ancestors    []string  `bson:"ancestors"`
	ProvinceCode string    `bson:"province_code"`
	CommuneCode  string    `bson:"commune_code,omitempty"`
	UnitKind     string    `bson:"unit_kind,omitempty"`
	CreatedAt    time.Time `bson:"created_at"`
	CreatedBy    string    `bson:"created_by"`
}

func (d branchDoc) branch() Branch {
	return Branch{ID: d.ID, Kind: BranchKind(d.Kind), Name: d.Name, ParentID: d.ParentID, Ancestors: d.Ancestors,
		ProvinceCode: d.ProvinceCode, CommuneCode: d.CommuneCode, UnitKind: d.UnitKind, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy}
}

func (s *branchStore) get(ctx context.Context, id string) (Branch, error) {
	var d branchDoc
	if err := recordByID(ctx, s.coll, id, &d); err != nil {
		return Branch{}, err
	}
	return d.branch(), nil
}

func (s *branchStore) insert(ctx context.Context, b Branch) error {
	if b.Ancestors == nil {
		b.Ancestors = []string{}
	}
	_, err := s.coll.InsertOne(ctx, branchDoc{ID: b.ID, Kind: string(b.Kind), Name: b.Name, ParentID: b.ParentID,
		Ancestors: b.Ancestors, ProvinceCode: b.ProvinceCode, CommuneCode: b.CommuneCode, UnitKind: b.UnitKind, CreatedAt: b.CreatedAt, CreatedBy: b.CreatedBy})
	return insertErr(err)
}

func (s *branchStore) children(ctx context.Context, parent, after string, limit int) ([]Branch, error) {
	filter := bson.D{{Key: "parent_id", Value: parent}}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	return s.find(ctx, filter, limit)
}

// ---- volunteers ----

type volunteerStore struct{ coll *mongo.Collection }

type slotDoc struct {
	Day  int    `bson:"day"`
	From string `bson:"from"`
	To   string `bson:"to"`
}

type consentDoc struct {
	Purpose    string    `bson:"purpose"`
	GivenAt    time.Time `bson:"given_at"`
	RecordedBy string    `bson:"recorded_by"`
}

type volunteerDoc struct {
	ID           string       `bson:"_id"`
	UserID       string       `bson:"user_id,omitempty"`
	Name         string       `bson:"name"`
	Phone        string       `bson:"phone"`
	BranchID     string       `bson:"branch_id"`
	Scope        []string     `bson:"scope"`
	CommuneID    string       `bson:"commune_id"`
	ProvinceCode string       `bson:"province_code"`
	CommuneCode  string       `bson:"commune_code"`
	Cell         string       `bson:"cell"` // H3 index, hex; never coordinates
	LocatedCode  string       `bson:"located_code,omitempty"`
	RadiusKm     float64      `bson:"radius_km"`
	Languages    []string     `bson:"languages"`
	Topics       []string     `bson:"topics"`
	Capacity     int          `bson:"capacity"`
	Availability []slotDoc    `bson:"availability"`
	Paused       bool         `bson:"paused"`
	PausedAt     time.Time    `bson:"paused_at,omitempty"`
	Pauses       []pauseDoc   `bson:"pauses,omitempty"`
	Consents     []consentDoc `bson:"consents"`
	CreatedAt    time.Time    `bson:"created_at"`
	UpdatedAt    time.Time    `bson:"updated_at"`
	CreatedBy    string       `bson:"created_by"`
}

type pauseDoc struct {
	From time.Time `bson:"from"`
	To   time.Time `bson:"to,omitempty"`
}

func toConsentDocs(cs []Consent) []consentDoc {
	out := make([]consentDoc, len(cs))
	for i, c := range cs {
		out[i] = consentDoc(c)
	}
	return out
}

func fromConsentDocs(ds []consentDoc) []Consent {
	out := make([]Consent, len(ds))
	for i, d := range ds {
		out[i] = Consent(d)
	}
	return out
}

func toVolunteerDoc(v Volunteer) volunteerDoc {
	slots := make([]slotDoc, len(v.Availability))
	for i, s := range v.Availability {
		slots[i] = slotDoc(s)
	}
	return volunteerDoc{ID: v.ID, UserID: v.UserID, Name: v.Name, Phone: v.Phone, BranchID: v.BranchID, Scope: v.Scope,
		CommuneID: v.CommuneID, ProvinceCode: v.ProvinceCode, CommuneCode: v.CommuneCode, Cell: v.Cell.String(),
		LocatedCode: v.LocatedCode, RadiusKm: v.RadiusKm, Languages: v.Languages, Topics: v.Topics, Capacity: v.Capacity, Availability: slots,
		Paused: v.Paused, PausedAt: v.PausedAt, Consents: toConsentDocs(v.Consents), CreatedAt: v.CreatedAt,
		UpdatedAt: v.UpdatedAt, CreatedBy: v.CreatedBy, Pauses: toPauseDocs(v.Pauses)}
}

func toPauseDocs(ps []Pause) []pauseDoc {
	out := make([]pauseDoc, len(ps))
	for i, p := range ps {
		out[i] = pauseDoc(p)
	}
	return out
}

func fromPauseDocs(ds []pauseDoc) []Pause {
	out := make([]Pause, len(ds))
	for i, d := range ds {
		out[i] = Pause(d)
	}
	return out
}

func (d volunteerDoc) volunteer() Volunteer {
	slots := make([]Slot, len(d.Availability))
	for i, s := range d.Availability {
		slots[i] = Slot(s)
	}
	cell, _ := geo.ParseCell(d.Cell, -1)
	return Volunteer{ID: d.ID, UserID: d.UserID, Name: d.Name, Phone: d.Phone, BranchID: d.BranchID, Scope: d.Scope,
		CommuneID: d.CommuneID, ProvinceCode: d.ProvinceCode, CommuneCode: d.CommuneCode, Cell: cell,
		LocatedCode: d.LocatedCode, RadiusKm: d.RadiusKm, Languages: d.Languages, Topics: d.Topics, Capacity: d.Capacity, Availability: slots,
		Paused: d.Paused, PausedAt: d.PausedAt, Consents: fromConsentDocs(d.Consents), CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, CreatedBy: d.CreatedBy, Pauses: fromPauseDocs(d.Pauses)}
}

func (s *volunteerStore) get(ctx context.Context, id string) (Volunteer, error) {
	var d volunteerDoc
	if err := recordByID(ctx, s.coll, id, &d); err != nil {
		return Volunteer{}, err
	}
	return d.volunteer(), nil
}

func (s *volunteerStore) insert(ctx context.Context, v Volunteer) error {
	_, err := s.coll.InsertOne(ctx, toVolunteerDoc(v))
	return insertErr(err)
}

// replace writes a whole profile. Profiles are edited by one person at a
// time; no invariant rests on this write.
func (s *volunteerStore) replace(ctx context.Context, v Volunteer) error {
	forget(ctx, s.coll, v.ID)
	res, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: v.ID}}, toVolunteerDoc(v))
	if err != nil {
		return store.WrapMongo(err)
	}
	if res.MatchedCount == 0 {
		return errs.ErrNotFound
	}
	return nil
}

func (s *volunteerStore) each(ctx context.Context, f func(Volunteer) error) error {
	cur, err := s.coll.Find(ctx, bson.D{})
	if err != nil {
		return store.WrapMongo(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d volunteerDoc
		if err := cur.Decode(&d); err != nil {
			return err
		}
		if err := f(d.volunteer()); err != nil {
			return err
		}
	}
	return store.WrapMongo(cur.Err())
}

func (s *volunteerStore) delete(ctx context.Context, id string) error {
	forget(ctx, s.coll, id)
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// ---- households ----

type householdStore struct{ coll *mongo.Collection }

type memberDoc struct {
	Name          string   `bson:"name"`
	BirthYear     int      `bson:"birth_year"`
	Needs         []string `bson:"needs"`
	Accessibility []string `bson:"accessibility"`
	Language      string   `bson:"language"`
	HasSmartphone bool     `bson:"has_smartphone"`
	SelfConsent   bool     `bson:"self_consent"`
	GuardianName  string   `bson:"guardian_name,omitempty"`
}

type householdDoc struct {
	ID               string       `bson:"_id"`
	UserID           string       `bson:"user_id,omitempty"`
	CommuneID        string       `bson:"commune_id"`
	Scope            []string     `bson:"scope"`
	ProvinceCode     string       `bson:"province_code"`
	CommuneCode      string       `bson:"commune_code"`
	Cell             string       `bson:"cell"`
	LocatedCode      string       `bson:"located_code,omitempty"`
	ContactPhone     string       `bson:"contact_phone,omitempty"`
	Members          []memberDoc  `bson:"members"`
	MemberCount      int          `bson:"member_count"` // for the rankings' $sum
	Consents         []consentDoc `bson:"consents"`
	RegisteredBy     string       `bson:"registered_by"`
	RegisteredByRole string       `bson:"registered_by_role"`
	CreatedAt        time.Time    `bson:"created_at"`
	UpdatedAt        time.Time    `bson:"updated_at"`
}

func toHouseholdDoc(h Household) householdDoc {
	ms := make([]memberDoc, len(h.Members))
	for i, m := range h.Members {
		ms[i] = memberDoc(m)
	}
	return householdDoc{ID: h.ID, UserID: h.UserID, CommuneID: h.CommuneID, Scope: h.Scope, ProvinceCode: h.ProvinceCode,
		CommuneCode: h.CommuneCode, Cell: h.Cell.String(), LocatedCode: h.LocatedCode, ContactPhone: h.ContactPhone, Members: ms,
		MemberCount: len(ms), Consents: toConsentDocs(h.Consents), RegisteredBy: h.RegisteredBy, RegisteredByRole: string(h.RegisteredByRole),
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

func (d householdDoc) household() Household {
	ms := make([]Member, len(d.Members))
	for i, m := range d.Members {
		ms[i] = Member(m)
	}
	cell, _ := geo.ParseCell(d.Cell, -1)
	return Household{ID: d.ID, UserID: d.UserID, CommuneID: d.CommuneID, Scope: d.Scope, ProvinceCode: d.ProvinceCode,
		CommuneCode: d.CommuneCode, Cell: cell, LocatedCode: d.LocatedCode, ContactPhone: d.ContactPhone, Members: ms,
		Consents: fromConsentDocs(d.Consents), RegisteredBy: d.RegisteredBy, RegisteredByRole: Role(d.RegisteredByRole),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (s *householdStore) get(ctx context.Context, id string) (Household, error) {
	var d householdDoc
	if err := recordByID(ctx, s.coll, id, &d); err != nil {
		return Household{}, err
	}
	return d.household(), nil
}

func (s *householdStore) insert(ctx context.Context, h Household) error {
	_, err := s.coll.InsertOne(ctx, toHouseholdDoc(h))
	return insertErr(err)
}

func (s *householdStore) replace(ctx context.Context, h Household) error {
	forget(ctx, s.coll, h.ID)
	res, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}}, toHouseholdDoc(h))
	if err != nil {
		return store.WrapMongo(err)
	}
	if res.MatchedCount == 0 {
		return errs.ErrNotFound
	}
	return nil
}

func (s *householdStore) cells(ctx context.Context, communeIDs []string) (map[string]geo.Cell, error) {
	type cellDoc struct {
		ID   string `bson:"_id"`
		Cell string `bson:"cell"`
	}
	docs, err := store.FindAll[cellDoc](ctx, s.coll, bson.D{{Key: "commune_id", Value: bson.D{{Key: "$in", Value: communeIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "cell", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make(map[string]geo.Cell, len(docs))
	for _, d := range docs {
		if c, err := geo.ParseCell(d.Cell, -1); err == nil {
			out[d.ID] = c
		}
	}
	return out, nil
}

func (s *householdStore) delete(ctx context.Context, id string) error {
	forget(ctx, s.coll, id)
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.WrapMongo(err)
}

// ---- helpers ----

func findByID(ctx context.Context, coll *mongo.Collection, id string, out any) error {
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errs.ErrNotFound
	}
	return store.WrapMongo(err)
}

// recordByID is findByID for the records (users, branches, volunteers,
// households), through ctx's memo if it has one (RememberReads). Phone
// claims never go through it: their reads decide who holds a number.
func recordByID(ctx context.Context, coll *mongo.Collection, id string, out any) error {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if raw, ok := m.get(coll.Name(), id); ok {
		return bson.Unmarshal(raw, out)
	}
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errs.ErrNotFound
	}
	if err != nil {
		return store.WrapMongo(err)
	}
	// A copy: the memo outlives the driver's buffer.
	m.put(coll.Name(), id, append(bson.Raw(nil), raw...))
	return bson.Unmarshal(raw, out)
}

// RememberReads returns ctx with a memo in it: for the rest of ctx's life,
// what this package reads by id is read from the store once. One help
// request asks for its household in the access check and the new-match
// reminder, and for its mentor's profile in the answer and the reminder;
// with the memo each is one read (two of the some ten commands a request
// sent). A write through this package forgets what it replaces.
// Meant for one request: what another request writes meanwhile is not
// seen.
func RememberReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{docs: map[[2]string]bson.Raw{}})
}

type memoKey struct{}

// memo holds raw documents by collection and id; a nil memo holds nothing.
type memo struct {
	mu   sync.Mutex
	docs map[[2]string]bson.Raw
}

func (m *memo) get(coll, id string) (bson.Raw, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.docs[[2]string{coll, id}]
	return raw, ok
}

func (m *memo) put(coll, id string, raw bson.Raw) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[[2]string{coll, id}] = raw
}

// forget drops what ctx's memo holds of a document about to be written.
func forget(ctx context.Context, coll *mongo.Collection, id string) {
	if m, _ := ctx.Value(memoKey{}).(*memo); m != nil {
		m.mu.Lock()
		delete(m.docs, [2]string{coll.Name(), id})
		m.mu.Unlock()
	}
}

// insertErr turns a duplicate _id into errs.ErrConflict.
func insertErr(err error) error {
	err = store.WrapMongo(err)
	if errors.Is(err, store.ErrDuplicate) {
		return errs.ErrConflict
	}
	return err
}

// ---- small collections: populations, team targets ----

// putDoc writes doc whole under id.
func putDoc(ctx context.Context, coll *mongo.Collection, id string, doc any) error {
	_, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	return store.WrapMongo(err)
}

// allDocs reads at most limit documents of coll.
func allDocs[T any](ctx context.Context, coll *mongo.Collection, limit int64) ([]T, error) {
	return store.FindAll[T](ctx, coll, bson.D{}, options.Find().SetLimit(limit))
}

// docsByID reads the documents of ids that exist.
func docsByID[T any](ctx context.Context, coll *mongo.Collection, ids []string) ([]T, error) {
	return store.FindAll[T](ctx, coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
}

// consentsOf returns the consents of the users among ids who have a record
// in coll (volunteers or households), by user id.
func consentsOf(ctx context.Context, coll *mongo.Collection, ids []string) (map[string][]Consent, error) {
	type person struct {
		UserID   string       `bson:"user_id"`
		Consents []consentDoc `bson:"consents"`
	}
	list, err := store.FindAll[person](ctx, coll, bson.D{{Key: "user_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "user_id", Value: 1}, {Key: "consents", Value: 1}}))
	out := make(map[string][]Consent, len(list))
	for _, p := range list {
		out[p.UserID] = fromConsentDocs(p.Consents)
	}
	return out, err
}

// populationDoc is a commune's population figures, by its official code.
type populationDoc struct {
	ID         string    `bson:"_id"` // the commune's official code
	Residents  int       `bson:"residents"`
	Households int       `bson:"households"`
	Year       int       `bson:"year"`
	SetBy      string    `bson:"set_by"`
	SetAt      time.Time `bson:"set_at"`
}

// teamTargetsDoc is a technology team's targets, by the team's id.
type teamTargetsDoc struct {
	ID         string         `bson:"_id"`
	Period     string         `bson:"period"`
	CampaignID string         `bson:"campaign_id,omitempty"`
	Values     map[string]int `bson:"values"`
	SetBy      string         `bson:"set_by"`
	SetAt      time.Time      `bson:"set_at"`
}
