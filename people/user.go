package people

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"daisuso/errs"
	"daisuso/geo"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Role is what a user may do. It lives in the users collection and is never
// taken from a token.
type Role string

// The roles, from widest to narrowest reach.
const (
	RoleAdmin        Role = "admin"         // national administrators
	RoleBranchAdmin  Role = "branch_admin"  // a union branch's admin, inside its subtree
	RoleCommuneStaff Role = "commune_staff" // the commune's public-service desk and technology team
	RoleVolunteer    Role = "volunteer"     // a mentor (Đại sứ số)
	RoleHousehold    Role = "household"     // a household or learner asking for help
)

// Roles lists every role, in a fixed order.
var Roles = []Role{RoleAdmin, RoleBranchAdmin, RoleCommuneStaff, RoleVolunteer, RoleHousehold}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// User is a signed-in person as the service knows them.
type User struct {
	ID        string
	Role      Role
	BranchID  string // empty for users outside the union hierarchy
	CreatedAt time.Time
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether s is a well-formed identifier: 1 to 64 ASCII
// letters, digits, '_' or '-'. Firebase UIDs and our own ids fit.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Service is the registry: users, the union hierarchy, volunteers and
// households.
type Service struct {
	users      *userStore
	branches   *branchStore
	volunteers *volunteerStore
	households *householdStore
	claims     *claimStore
	targets    *mongo.Collection // team_targets: _id = the team's id
	// populations: _id = a commune's official code (Population)
	populations *mongo.Collection
	holders     []DataHolder
	observers   []func(context.Context, Volunteer) error
	afterErase  []func(context.Context) error
	mentorsOf   func(ctx context.Context, householdID string) ([]string, error)
	units       *geo.Units
	now         func() time.Time
}

// vietnam is Asia/Ho_Chi_Minh (UTC+7, no daylight saving), fixed so that
// the service does not depend on the host's time zone database.
var vietnam = time.FixedZone("Asia/Ho_Chi_Minh", 7*3600)

// New returns a Service keeping its data in cfg.DB.
func New(cfg Config) *Service {
	now, db := cfg.Now, cfg.DB
	if now == nil {
		now = time.Now
	}
	s := &Service{users: newUserStore(db), branches: &branchStore{db.Collection("branches")},
		volunteers: &volunteerStore{db.Collection("volunteers")}, households: &householdStore{db.Collection("households")},
		targets: db.Collection("team_targets"), populations: db.Collection("populations"), now: now, units: cfg.Units}
	s.claims = &claimStore{coll: db.Collection("claims"), now: now}
	return s
}

// Config is what the registry is built on.
type Config struct {
	DB  *mongo.Database
	Now func() time.Time // nil: time.Now
	// Units is the list of administrative units (cmd/ reads UNITS_DIR);
	// nil: the embedded one.
	Units *geo.Units
}

// Units is the list of administrative units the registry checks codes and
// places locations with: Config.Units, or the embedded one (loaded
// on first use, so that a service given another never loads it).
func (s *Service) Units() *geo.Units {
	if s.units == nil {
		return geo.EmbeddedUnits()
	}
	return s.units
}

// User returns the user with the given id, or errs.ErrNotFound.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	if !ValidID(id) {
		return User{}, errs.ErrNotFound
	}
	u, err := s.users.get(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// EnsureUser creates u if no user has its id yet and returns the stored
// user: the new one, or the existing one unchanged (created is false).
func (s *Service) EnsureUser(ctx context.Context, u User) (stored User, created bool, err error) {
	if !ValidID(u.ID) {
		return User{}, false, &errs.FieldError{Field: "user_id", Reason: "invalid_id"}
	}
	if !u.Role.Valid() {
		return User{}, false, &errs.FieldError{Field: "role", Reason: "unknown_role"}
	}
	if u.BranchID != "" && !ValidID(u.BranchID) {
		return User{}, false, &errs.FieldError{Field: "branch_id", Reason: "invalid_id"}
	}
	u.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	created, err = s.users.insert(ctx, u)
	if err != nil {
		return User{}, false, fmt.Errorf("ensure user %s: %w", u.ID, err)
	}
	if created {
		return u, true, nil
	}
	stored, err = s.User(ctx, u.ID)
	return stored, false, err
}

// Limits of UsersAt and UsersUnder: a branch subtree is at most a province.
const (
	maxNodesUnder = 20000
	MaxAudience   = 200000 // users one broadcast reaches at most
)

// UsersAt lists the users of the roles attached to the nodes, by id, at
// most limit of them.
func (s *Service) UsersAt(ctx context.Context, nodeIDs []string, roles []Role, limit int) ([]string, error) {
	if len(nodeIDs) == 0 || len(roles) == 0 {
		return nil, nil
	}
	return s.users.at(ctx, nodeIDs, roles, limit)
}

// UsersUnder lists the users of the roles attached to the node or any node
// below it, at most MaxAudience.
func (s *Service) UsersUnder(ctx context.Context, nodeID string, roles []Role) ([]string, error) {
	nodes, err := s.branches.under(ctx, nodeID, maxNodesUnder)
	if err != nil {
		return nil, err
	}
	return s.UsersAt(ctx, append(nodes, nodeID), roles, MaxAudience)
}

// Responders are who must act on a commune's queue: its commune staff
// (attached to the commune or its technology team) and the commune union's
// branch admins.
func (s *Service) Responders(ctx context.Context, communeID string) ([]string, error) {
	return s.communeUsers(ctx, communeID, RoleCommuneStaff, RoleBranchAdmin)
}

// StaffOf are a commune's staff, attached to the commune or its technology
// team: they remind in person those who have no phone.
func (s *Service) StaffOf(ctx context.Context, communeID string) ([]string, error) {
	return s.communeUsers(ctx, communeID, RoleCommuneStaff)
}

func (s *Service) communeUsers(ctx context.Context, communeID string, roles ...Role) ([]string, error) {
	teams, err := s.branches.under(ctx, communeID, 200)
	if err != nil {
		return nil, err
	}
	return s.UsersAt(ctx, append(teams, communeID), roles, 200)
}

// AdminsOf are the branch admins of a node and of its commune.
func (s *Service) AdminsOf(ctx context.Context, nodeID string) ([]string, error) {
	b, err := s.Branch(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	nodes := []string{b.ID}
	if c := b.CommuneID(); c != "" && c != b.ID {
		nodes = append(nodes, c)
	}
	return s.UsersAt(ctx, nodes, []Role{RoleBranchAdmin}, 200)
}
