package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"firebase.google.com/go/v4/auth"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/singleflight"

	"daisuso/errs"
	"daisuso/people"
	"daisuso/store"
)

// ErrBadToken is returned by a TokenVerifier for a token it does not accept.
var ErrBadToken = errors.New("bad token")

// TokenVerifier turns a bearer token into the id of the user it was issued
// to. Production uses Firebase ID tokens; dev mode adds DevTokens.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (userID string, err error)
}

// FirebaseVerifier checks Firebase ID tokens (signature, audience, issuer,
// expiry) with the Firebase Admin SDK. Only the uid is taken from the token:
// role and branch come from the users collection.
type FirebaseVerifier struct{ Client *auth.Client }

// Verify implements TokenVerifier.
func (f FirebaseVerifier) Verify(ctx context.Context, token string) (string, error) {
	t, err := f.Client.VerifyIDToken(ctx, token)
	switch {
	case err == nil:
	case auth.IsIDTokenInvalid(err), auth.IsIDTokenExpired(err), auth.IsIDTokenRevoked(err), auth.IsUserDisabled(err):
		return "", errors.Join(ErrBadToken, err)
	default:
		// Google's signing keys could not be fetched: not the caller's fault.
		return "", &store.OutageError{Store: "firebase_auth", Err: err}
	}
	return t.UID, nil
}

// DevTokens issues and checks the tokens of dev mode: "dev." + base64url of
// {"uid","exp"} + "." + base64url of its HMAC-SHA256 under the dev secret.
// They exist so that a demo can act as anyone; production never accepts them.
type DevTokens struct {
	Secret []byte
	TTL    time.Duration
	Now    func() time.Time
}

const devTokenPrefix = "dev."

type devClaims struct {
	UID string `json:"uid"`
	Exp int64  `json:"exp"`
}

// Issue returns a token for userID.
func (d DevTokens) Issue(userID string) (string, time.Time) {
	exp := d.Now().Add(d.TTL).Truncate(time.Second)
	payload, _ := json.Marshal(devClaims{UID: userID, Exp: exp.Unix()})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return devTokenPrefix + p + "." + base64.RawURLEncoding.EncodeToString(d.sign(p)), exp
}

func (d DevTokens) sign(payload string) []byte {
	m := hmac.New(sha256.New, d.Secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify implements TokenVerifier.
func (d DevTokens) Verify(_ context.Context, token string) (string, error) {
	rest, ok := strings.CutPrefix(token, devTokenPrefix)
	if !ok {
		return "", ErrBadToken
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return "", ErrBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, d.sign(p)) {
		return "", ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", ErrBadToken
	}
	var cl devClaims
	if err := json.Unmarshal(raw, &cl); err != nil || !people.ValidID(cl.UID) {
		return "", ErrBadToken
	}
	if d.Now().Unix() >= cl.Exp {
		return "", ErrBadToken
	}
	return cl.UID, nil
}

// principal is who is calling: the user id from the token, and role and
// branch from the users collection. Role is empty for a signed-in person who
// has not registered yet.
type principal struct {
	ID       string
	Role     people.Role
	BranchID string
}

// maxTokenBytes bounds what is handed to a verifier; Firebase ID tokens are
// about 1 KB.
const maxTokenBytes = 4096

// authenticate resolves the bearer token into a principal.
func (a *API) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return newError(fiber.StatusUnauthorized, "unauthenticated", nil)
	}
	if len(token) > maxTokenBytes {
		return newError(fiber.StatusUnauthorized, "invalid_token", nil)
	}
	token = strings.Clone(token)
	uid, err := a.verify(c.UserContext(), token)
	if err != nil {
		if errors.Is(err, ErrBadToken) {
			return &apiError{Status: fiber.StatusUnauthorized, Code: "invalid_token", cause: err}
		}
		return err
	}
	p := principal{ID: uid}
	u, err := a.users.get(c.UserContext(), uid)
	switch {
	case err == nil:
		p.Role, p.BranchID = u.Role, u.BranchID
	case !errors.Is(err, errs.ErrNotFound):
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

func (a *API) verify(ctx context.Context, token string) (string, error) {
	if strings.HasPrefix(token, devTokenPrefix) {
		if a.deps.DevTokens == nil {
			return "", ErrBadToken
		}
		return a.deps.DevTokens.Verify(ctx, token)
	}
	if a.deps.Verifier == nil {
		return "", ErrBadToken
	}
	return a.deps.Verifier.Verify(ctx, token)
}

func callerOf(c *fiber.Ctx) principal {
	p, _ := c.Locals(localPrincipal).(principal)
	return p
}

// access is the rule of one route. The zero value allows no one: a route
// that forgets its rule is closed, not open.
type access struct {
	public       bool          // no token needed
	signedIn     bool          // any valid token, registered or not
	unregistered bool          // also a valid token of someone with no role yet
	roles        []people.Role // any of these roles
}

var (
	public   = access{public: true}
	signedIn = access{signedIn: true}
)

func roles(r ...people.Role) access { return access{roles: r} }

// who names who may call a route, as the OpenAPI states it: "public",
// "signed_in", the roles, and "unregistered" (signed in with no role yet).
func (a access) who() []string {
	switch {
	case a.public:
		return []string{"public"}
	case a.signedIn:
		return []string{"signed_in"}
	}
	out := make([]string, 0, len(a.roles)+1)
	for _, r := range a.roles {
		out = append(out, string(r))
	}
	if a.unregistered {
		out = append(out, "unregistered")
	}
	return out
}

// rolesOrNew is roles plus people who have signed in but not registered:
// the routes where a person registers themself.
func rolesOrNew(r ...people.Role) access { return access{roles: r, unregistered: true} }

func (ac access) allows(p principal) bool {
	if ac.public || ac.signedIn || (ac.unregistered && p.Role == "") {
		return true
	}
	for _, r := range ac.roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// authorize enforces a route's access rule after authenticate.
func authorize(ac access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !ac.allows(callerOf(c)) {
			return newError(fiber.StatusForbidden, "forbidden", nil)
		}
		return c.Next()
	}
}

// userCache keeps users (role and branch) for a short time, so that a
// signed-in request does not read the users collection every time (a
// lookup on the embedded store costs far more than a map read:
// docs/PERFORMANCE.md, "_id lookups"). A role or branch change reaches
// other instances within ttl; ttl 0 turns the cache off.
//
// Requests of one user that miss the cache together (an app opening a
// screen asks for several things at once) share one lookup.
type userCache struct {
	lookup  func(ctx context.Context, id string) (people.User, error) // the store's
	ttl     time.Duration
	now     func() time.Time
	flights singleflight.Group
	mu      sync.Mutex
	m       map[string]cachedUser
	forgets uint64 // forget calls so far: a lookup that saw one is not kept
}

type cachedUser struct {
	u       people.User
	missing bool
	until   time.Time
}

const maxCachedUsers = 100_000

func (uc *userCache) get(ctx context.Context, id string) (people.User, error) {
	if uc.ttl <= 0 {
		return uc.lookup(ctx, id)
	}
	now := uc.now()
	uc.mu.Lock()
	c, ok := uc.m[id]
	uc.mu.Unlock()
	if ok && now.Before(c.until) {
		if c.missing {
			return people.User{}, errs.ErrNotFound
		}
		return c.u, nil
	}
	v, err, _ := uc.flights.Do(id, func() (any, error) {
		uc.mu.Lock()
		forgets := uc.forgets
		uc.mu.Unlock()
		// The first caller's context: it ends only at that request's
		// deadline, which comes before those of the requests that joined.
		u, err := uc.lookup(ctx, id)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		// Someone not registered yet is kept for a second only: they are
		// about to register.
		c := cachedUser{u: u, missing: err != nil, until: now.Add(uc.ttl)}
		if c.missing {
			c.until = now.Add(time.Second)
		}
		uc.mu.Lock()
		if len(uc.m) >= maxCachedUsers {
			clear(uc.m)
		}
		if uc.forgets == forgets {
			uc.m[id] = c
		}
		uc.mu.Unlock()
		return c, nil
	})
	if err != nil {
		return people.User{}, err
	}
	if c := v.(cachedUser); !c.missing {
		return c.u, nil
	}
	return people.User{}, errs.ErrNotFound
}

// forget drops a user whose role or branch this instance just changed.
func (uc *userCache) forget(id string) {
	uc.mu.Lock()
	delete(uc.m, id)
	uc.forgets++
	uc.mu.Unlock()
	uc.flights.Forget(id) // a request from now on looks again
}
