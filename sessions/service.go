package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/people"
	"daisuso/store"
)

// Service keeps sessions.
type Service struct {
	st       *mongoStore
	people   *people.Service
	matching *matching.Service
	gamify   *gamify.Service
	rdb      redis.UniversalClient
	prefix   string
	secret   []byte // keys the confirmation code hashes
	log      *slog.Logger
	now      func() time.Time
	changed  []func(context.Context, Session)
}

// OnChange registers f to be told of every session scheduled or moved to a
// new state (reminders). Call it before serving.
func (s *Service) OnChange(f func(context.Context, Session)) { s.changed = append(s.changed, f) }

func (s *Service) tell(ctx context.Context, sess Session) {
	for _, f := range s.changed {
		f(ctx, sess)
	}
}

// Config configures a Service.
type Config struct {
	DB          *mongo.Database
	People      *people.Service
	Matching    *matching.Service
	Gamify      *gamify.Service
	Redis       redis.UniversalClient
	RedisPrefix string
	// CodeSecret keys the hashes of confirmation codes, so that a copy of
	// the database does not give the codes away by brute force.
	CodeSecret []byte
	Logger     *slog.Logger
	Now        func() time.Time
}

// New returns a Service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: newMongoStore(c.DB), people: c.People, matching: c.Matching, gamify: c.Gamify, rdb: c.Redis,
		prefix: c.RedisPrefix, secret: c.CodeSecret, log: c.Logger, now: c.Now}
}

// EnsureIndexes creates the indexes of the sessions collections.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.st.ensureIndexes(ctx) }

var sessionID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidID reports whether id is a UUID, the form phones choose ids in.
func ValidID(id string) bool { return sessionID.MatchString(id) }

// NewSession is what a mentor schedules.
type NewSession struct {
	ID       string
	Learners []Learner // HouseholdID and Member
	StartsAt time.Time
	Minutes  int
	Location *geo.Point // the meeting place; the mentor's home cell when nil
	Topics   []string
	ItemID   string // set by sync
}

// Schedule records a new session of the actor's (a volunteer) with learners
// of their own. Sending the same session again returns it unchanged
// (created false); another session under the same id is a conflict.
func (s *Service) Schedule(ctx context.Context, a people.Actor, in NewSession) (Session, bool, error) {
	if !ValidID(in.ID) {
		return Session{}, false, &errs.FieldError{Field: "id", Reason: "invalid_uuid"}
	}
	if a.Role != people.RoleVolunteer {
		return Session{}, false, errs.ErrForbidden
	}
	if old, err := s.st.load(ctx, in.ID); err == nil {
		if old.MentorID == a.UserID && old.StartsAt.Equal(in.StartsAt.UTC().Truncate(time.Second)) {
			return old, false, nil
		}
		return Session{}, false, &errs.ConflictError{Reason: "session_id_taken", Field: "id"}
	} else if !errors.Is(err, ErrNotFound) {
		return Session{}, false, err
	}
	mentor, err := s.people.VolunteerRecord(ctx, a.UserID)
	if errors.Is(err, errs.ErrNotFound) {
		return Session{}, false, &errs.RuleError{Code: "not_a_mentor", Field: "id"}
	}
	if err != nil {
		return Session{}, false, err
	}
	now := s.now().UTC()
	switch {
	case len(in.Learners) == 0:
		return Session{}, false, &errs.FieldError{Field: "learners", Reason: "required"}
	case len(in.Learners) > MaxLearners:
		return Session{}, false, &errs.FieldError{Field: "learners", Reason: "too_many"}
	case in.StartsAt.IsZero():
		return Session{}, false, &errs.FieldError{Field: "starts_at", Reason: "required"}
	case in.StartsAt.Before(now.Add(-scheduleBackMax)) || in.StartsAt.After(now.Add(scheduleAheadMax)):
		return Session{}, false, &errs.RuleError{Code: "starts_at_out_of_range", Field: "starts_at"}
	case in.Minutes < MinMinutes || in.Minutes > MaxMinutes:
		return Session{}, false, &errs.FieldError{Field: "minutes", Reason: "out_of_range"}
	}
	topics, err := checkTopics("topics", in.Topics)
	if err != nil {
		return Session{}, false, err
	}
	cell := mentor.Cell
	if in.Location != nil {
		if cell, err = s.people.CellOf(*in.Location); err != nil {
			return Session{}, false, err
		}
	}
	learners, households, err := s.checkLearners(ctx, mentor, in.Learners)
	if err != nil {
		return Session{}, false, err
	}
	sess := Session{ID: in.ID, Version: 1, MentorID: mentor.ID, BranchID: mentor.BranchID, CommuneID: mentor.CommuneID,
		Learners: learners, Households: households, StartsAt: in.StartsAt.UTC().Truncate(time.Second), Minutes: in.Minutes,
		Cell: cell, Topics: topics, State: StateScheduled, ScheduleItem: in.ItemID,
		CreatedAt: now.Truncate(time.Millisecond), UpdatedAt: now.Truncate(time.Millisecond)}
	if err := s.st.commit(ctx, sess); err != nil {
		if errors.Is(err, ErrChanged) { // the same id scheduled concurrently
			return s.Schedule(ctx, a, in)
		}
		return Session{}, false, err
	}
	s.tell(ctx, sess)
	return sess, true, nil
}

// checkLearners: each learner is a member of a household the mentor is
// matched with, and the mentor is not teaching their own household.
func (s *Service) checkLearners(ctx context.Context, mentor people.Volunteer, in []Learner) ([]Learner, []string, error) {
	var out []Learner
	var households []string
	seen := map[string]bool{}
	for i, l := range in {
		field := fmt.Sprintf("learners[%d]", i)
		if !people.ValidID(l.HouseholdID) {
			return nil, nil, &errs.FieldError{Field: field + ".household_id", Reason: "required"}
		}
		h, err := s.people.HouseholdRecord(ctx, l.HouseholdID)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil, &errs.RuleError{Code: "not_your_learner", Field: field}
		}
		if err != nil {
			return nil, nil, err
		}
		if (h.UserID != "" && h.UserID == mentor.UserID) || (h.ContactPhone != "" && h.ContactPhone == mentor.Phone) {
			return nil, nil, &errs.RuleError{Code: "own_household", Field: field}
		}
		if l.Member < 0 || l.Member >= len(h.Members) {
			return nil, nil, &errs.FieldError{Field: field + ".member", Reason: "out_of_range"}
		}
		if !slices.Contains(households, h.ID) {
			mentors, err := s.matching.MentorsOfHousehold(ctx, h.ID)
			if err != nil {
				return nil, nil, err
			}
			if !slices.Contains(mentors, mentor.ID) {
				return nil, nil, &errs.RuleError{Code: "not_your_learner", Field: field}
			}
			households = append(households, h.ID)
		}
		l.Language = h.Members[l.Member].Language
		if seen[l.Key()] {
			return nil, nil, &errs.FieldError{Field: field, Reason: "duplicate"}
		}
		seen[l.Key()] = true
		out = append(out, l)
	}
	return out, households, nil
}

func checkTopics(field string, in []string) ([]string, error) {
	out := []string{}
	for _, t := range in {
		if !slices.ContainsFunc(people.Topics, func(c people.Code) bool { return c.Code == t }) {
			return nil, &errs.FieldError{Field: field, Reason: "unknown_code"}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Get returns a session the actor may see: its mentor, its households,
// staff and admins over its commune.
func (s *Service) Get(ctx context.Context, a people.Actor, id string) (Session, error) {
	if !ValidID(id) {
		return Session{}, ErrNotFound
	}
	sess, err := s.st.load(ctx, id)
	if err != nil {
		return Session{}, err
	}
	ok, err := s.maySee(ctx, a, sess)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, ErrNotFound
	}
	return sess, nil
}

// MaxMine bounds the sessions Mine returns: a volunteer's month, or more.
const MaxMine = 50

// Mine lists the actor's own sessions, newest first: a volunteer's as
// mentor, a household's as learners (a household user's household has the
// user's id), and for commune staff the commune's sessions held and
// waiting for the code at the desk. Others have none.
func (s *Service) Mine(ctx context.Context, a people.Actor, limit int) ([]Session, error) {
	limit = min(max(limit, 1), MaxMine)
	switch a.Role {
	case people.RoleVolunteer:
		return s.st.latest(ctx, "mentor_id", a.UserID, limit)
	case people.RoleHousehold:
		return s.st.latest(ctx, "households", a.UserID, limit)
	case people.RoleCommuneStaff:
		b, err := s.people.Branch(ctx, a.BranchID)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && b.CommuneID() == "") {
			return []Session{}, nil
		}
		if err != nil {
			return nil, err
		}
		return s.st.heldIn(ctx, b.CommuneID(), limit)
	}
	return []Session{}, nil
}

func (s *Service) maySee(ctx context.Context, a people.Actor, sess Session) (bool, error) {
	if sess.MentorID == a.UserID {
		return true, nil
	}
	if a.Role == people.RoleHousehold && slices.Contains(sess.Households, a.UserID) {
		return true, nil
	}
	if a.Role == people.RoleAdmin || a.Role == people.RoleBranchAdmin || a.Role == people.RoleCommuneStaff {
		return s.people.Administers(ctx, a, sess.BranchID)
	}
	return false, nil
}

// mentorSession loads a session the actor mentors.
func (s *Service) mentorSession(ctx context.Context, a people.Actor, id string) (Session, error) {
	sess, err := s.Get(ctx, a, id)
	if err != nil {
		return Session{}, err
	}
	if sess.MentorID != a.UserID {
		return Session{}, errs.ErrForbidden
	}
	return sess, nil
}

// CheckInInput is the mentor's record of the session.
type CheckInInput struct {
	At            time.Time // when; now when zero (offline items carry theirs)
	Location      *geo.Point
	TopicsCovered []string
	Results       []Result // nil: every learner attended, with no outcomes
	ItemID        string
}

// CheckIn marks a scheduled session held (the mentor is shown its
// confirmation code, Code). applied is false when the same offline item
// had checked it in before.
func (s *Service) CheckIn(ctx context.Context, a people.Actor, id string, in CheckInInput) (sess Session, applied bool, err error) {
	if sess, err = s.mentorSession(ctx, a, id); err != nil {
		return Session{}, false, err
	}
	if sess.State != StateScheduled {
		if sess.CheckIn != nil && in.ItemID != "" && sess.CheckIn.ItemID == in.ItemID {
			return sess, false, nil
		}
		return Session{}, false, &StateError{State: sess.State, Action: "check_in"}
	}
	now := s.now().UTC()
	at := in.At.UTC()
	if in.At.IsZero() {
		at = now
	}
	if at.Before(sess.StartsAt.Add(-2*time.Hour)) || at.After(sess.StartsAt.Add(7*24*time.Hour)) {
		return Session{}, false, &errs.RuleError{Code: "check_in_time_out_of_range", Field: "at"}
	}
	cell := sess.Cell
	if in.Location != nil {
		if cell, err = s.people.CellOf(*in.Location); err != nil {
			return Session{}, false, err
		}
	}
	covered, err := checkTopics("topics_covered", in.TopicsCovered)
	if err != nil {
		return Session{}, false, err
	}
	results, err := checkResults(sess, in.Results, covered)
	if err != nil {
		return Session{}, false, err
	}
	flags, err := s.flags(ctx, sess, at, cell)
	if err != nil {
		return Session{}, false, err
	}
	if f := heldTimeFlag(at, now); f != "" {
		flags = append(flags, f)
	}
	sess, err = s.advance(ctx, sess, func(next *Session, _ time.Time) {
		next.State = StateHeld
		next.CheckIn = &CheckIn{At: at.Truncate(time.Second), Cell: cell, TopicsCovered: covered, Results: results, ItemID: in.ItemID}
		next.Flags = flags
	})
	if err != nil {
		return Session{}, false, err
	}
	s.tell(ctx, sess)
	return sess, true, nil
}

func checkResults(sess Session, in []Result, covered []string) ([]Result, error) {
	if in == nil {
		out := make([]Result, len(sess.Learners))
		for i, l := range sess.Learners {
			out[i] = Result{HouseholdID: l.HouseholdID, Member: l.Member, Outcomes: []string{}}
		}
		return out, nil
	}
	var out []Result
	var err error
	for i, r := range in {
		field := fmt.Sprintf("results[%d]", i)
		if !slices.ContainsFunc(sess.Learners, func(l Learner) bool { return l.HouseholdID == r.HouseholdID && l.Member == r.Member }) {
			return nil, &errs.RuleError{Code: "not_in_session", Field: field}
		}
		if slices.ContainsFunc(out, func(o Result) bool { return o.HouseholdID == r.HouseholdID && o.Member == r.Member }) {
			return nil, &errs.FieldError{Field: field, Reason: "duplicate"}
		}
		var topics []string
		if r.Topics != nil {
			if topics, err = checkTopics(field+".topics", r.Topics); err != nil {
				return nil, err
			}
			for _, t := range topics {
				if !slices.Contains(covered, t) {
					return nil, &errs.RuleError{Code: "topic_not_covered_in_session", Field: field + ".topics"}
				}
			}
		}
		outcomes := []string{}
		for _, o := range r.Outcomes {
			if !slices.Contains(Outcomes, o) {
				return nil, &errs.FieldError{Field: field + ".outcomes", Reason: "unknown_code"}
			}
			if !slices.Contains(outcomes, o) {
				outcomes = append(outcomes, o)
			}
		}
		out = append(out, Result{HouseholdID: r.HouseholdID, Member: r.Member, Topics: topics, Outcomes: outcomes})
	}
	return out, nil
}

// flags are the anti-gaming checks made at check-in: a session held for
// review instead of scoring when it overlaps another of the mentor's, when
// the mentor has held too many that day, or when getting here from the
// nearest check-in in time was not possible.
func (s *Service) flags(ctx context.Context, sess Session, at time.Time, cell geo.Cell) ([]string, error) {
	local := at.In(gamify.Vietnam)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, gamify.Vietnam)
	others, err := s.st.ofMentor(ctx, sess.MentorID, dayStart.Add(-7*24*time.Hour), dayStart.Add(8*24*time.Hour))
	if err != nil {
		return nil, err
	}
	flags := []string{}
	add := func(f string) {
		if !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	end := at.Add(time.Duration(sess.Minutes) * time.Minute)
	sameDay := 0
	for _, o := range others {
		if o.ID == sess.ID || o.CheckIn == nil || o.State == StateRejected {
			continue
		}
		oStart := o.CheckIn.At
		oEnd := oStart.Add(time.Duration(o.Minutes) * time.Minute)
		if at.Before(oEnd) && oStart.Before(end) {
			add(FlagOverlap)
		}
		if l := oStart.In(gamify.Vietnam); l.Year() == local.Year() && l.YearDay() == local.YearDay() {
			sameDay++
		}
		gap := at.Sub(oEnd)
		if oStart.After(at) {
			gap = oStart.Sub(end)
		}
		if gap < 0 {
			gap = 0
		}
		if gap < 24*time.Hour {
			km := geo.DistanceKm(o.CheckIn.Cell.Center(), cell.Center())
			if km > TravelSlackKm+MaxSpeedKmH*gap.Hours() {
				add(FlagImpossibleTrip)
			}
		}
	}
	if sameDay >= MaxPerDay {
		add(FlagTooManyPerDay)
	}
	return flags, nil
}

// heldTimeFlag is the review flag a held time earns when it is reported
// (checked in or confirmed) at now: ahead of the server's clock, or older
// than MaxHeldAge. "" when it needs none.
func heldTimeFlag(held, now time.Time) string {
	switch {
	case held.After(now.Add(ClockSkew)):
		return FlagHeldInFuture
	case now.Sub(held) > MaxHeldAge:
		return FlagReportedLate
	}
	return ""
}

// Cancel cancels a scheduled session; applied is false when it was
// cancelled already.
func (s *Service) Cancel(ctx context.Context, a people.Actor, id string) (sess Session, applied bool, err error) {
	if sess, err = s.mentorSession(ctx, a, id); err != nil {
		return Session{}, false, err
	}
	if sess.State == StateCancelled {
		return sess, false, nil
	}
	if sess.State != StateScheduled {
		return Session{}, false, &StateError{State: sess.State, Action: "cancel"}
	}
	sess, err = s.advance(ctx, sess, func(next *Session, _ time.Time) { next.State = StateCancelled })
	return sess, err == nil, err
}

// Confirm is the other side's confirmation: the household in the app (no
// code needed: they are signed in as the household), or commune staff over
// the session's commune with the code the mentor gave the learner, for
// people without a phone. A session with review flags goes to review;
// otherwise it is confirmed and scored. Confirming again is harmless and
// finishes scoring a confirmation that was cut off.
func (s *Service) Confirm(ctx context.Context, a people.Actor, id, code string) (Session, error) {
	if !ValidID(id) {
		return Session{}, ErrNotFound
	}
	sess, err := s.st.load(ctx, id)
	if err != nil {
		return Session{}, err
	}
	if sess.MentorID == a.UserID {
		return Session{}, &errs.RuleError{Code: "self_confirmation", Field: "id"}
	}
	method := ""
	switch {
	case a.Role == people.RoleHousehold && slices.Contains(sess.Households, a.UserID):
		method = "household_app"
	case a.Role == people.RoleCommuneStaff || a.Role == people.RoleAdmin:
		ok, err := s.people.Administers(ctx, a, sess.CommuneID)
		if err != nil {
			return Session{}, err
		}
		if !ok {
			return Session{}, ErrNotFound
		}
		method = "staff_code"
	default:
		return Session{}, ErrNotFound
	}
	switch sess.State {
	case StateConfirmed:
		return sess, s.score(ctx, sess)
	case StatePendingReview:
		return sess, nil
	case StateHeld:
	default:
		return Session{}, &StateError{State: sess.State, Action: "confirm"}
	}
	if method == "staff_code" {
		if err := s.checkCode(ctx, sess, code); err != nil {
			return Session{}, err
		}
	}
	return s.advance(ctx, sess, func(next *Session, now time.Time) {
		next.Confirmation = &Confirmation{By: a.UserID, Role: string(a.Role), Method: method, At: now}
		next.State = StateConfirmed
		if f := heldTimeFlag(sess.CheckIn.At, now); f != "" && !slices.Contains(next.Flags, f) {
			next.Flags = append(slices.Clone(next.Flags), f)
		}
		if len(next.Flags) > 0 {
			next.State = StatePendingReview
		}
	})
}

// advance commits the next version of a session as change makes it, and
// scores it if it now counts.
func (s *Service) advance(ctx context.Context, sess Session, change func(next *Session, now time.Time)) (Session, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	next := sess
	next.Version++
	next.UpdatedAt = now
	change(&next, now)
	if err := s.st.commit(ctx, next); err != nil {
		return Session{}, err
	}
	s.tell(ctx, next)
	if next.counts() {
		return next, s.score(ctx, next)
	}
	return next, nil
}

// ReviewSession approves (confirms and scores) or rejects a session held
// for review; a branch admin over the mentor's branch decides.
func (s *Service) ReviewSession(ctx context.Context, a people.Actor, id, decision string) (Session, error) {
	if decision != "approve" && decision != "reject" {
		return Session{}, &errs.FieldError{Field: "decision", Reason: "unknown_code"}
	}
	sess, err := s.Get(ctx, a, id)
	if err != nil {
		return Session{}, err
	}
	if a.Role != people.RoleBranchAdmin && a.Role != people.RoleAdmin {
		return Session{}, errs.ErrForbidden
	}
	if sess.State != StatePendingReview {
		if sess.Review != nil && sess.Review.Decision == decision {
			return sess, nil
		}
		return Session{}, &StateError{State: sess.State, Action: "review"}
	}
	return s.advance(ctx, sess, func(next *Session, now time.Time) {
		next.Review = &Review{By: a.UserID, Decision: decision, At: now}
		next.State = StateRejected
		if decision == "approve" {
			next.State = StateConfirmed
		}
	})
}

// ---- confirmation codes ----

// Code is the 6-digit confirmation code of a held session: derived from
// the session and its check-in with the server's secret, never stored, so
// the mentor's phone can be shown it again after a lost answer (only the
// mentor is ever told it) and a copy of the database does not hold it.
func (s *Service) Code(sess Session) string {
	if sess.CheckIn == nil {
		return ""
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("confirm:" + sess.ID + ":" + sess.CheckIn.At.UTC().Format(time.RFC3339)))
	sum := m.Sum(nil)
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(sum)%1_000_000)
}

// ErrTooManyAttempts: too many codes tried for one session this hour.
var ErrTooManyAttempts = errors.New("too many wrong confirmation codes")

// LockedError is ErrTooManyAttempts with when the next try is allowed.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return ErrTooManyAttempts.Error() }
func (e *LockedError) Unwrap() error { return ErrTooManyAttempts }

// checkCode compares a code in constant time. Every try is counted before
// it is judged, with one INCR in Redis (one key per session, expiring an
// hour after the first try): of tries sent at once, exactly CodeAttempts
// are judged and the rest refused, whatever their order. A missing code is
// not a try. A right code clears the count.
func (s *Service) checkCode(ctx context.Context, sess Session, code string) error {
	if code == "" {
		return &errs.FieldError{Field: "code", Reason: "required"}
	}
	key := s.prefix + "cc:" + sess.ID
	p := s.rdb.TxPipeline()
	n := p.Incr(ctx, key)
	p.ExpireNX(ctx, key, time.Hour)
	ttl := p.TTL(ctx, key)
	if _, err := p.Exec(ctx); err != nil {
		return store.WrapRedis(err)
	}
	if n.Val() > CodeAttempts {
		wait := ttl.Val()
		if wait <= 0 {
			wait = time.Hour
		}
		return &LockedError{RetryAfter: wait}
	}
	if want := s.Code(sess); want != "" && hmac.Equal([]byte(code), []byte(want)) {
		_ = s.rdb.Del(context.WithoutCancel(ctx), key).Err()
		return nil
	}
	return &errs.RuleError{Code: "wrong_confirmation_code", Field: "code"}
}
