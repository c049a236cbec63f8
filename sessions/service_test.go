package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"daisuso/errs"
	"daisuso/people"
	"daisuso/programme"
	"daisuso/sessions"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// world is a commune with Mai, a mentor, and a family she was matched to,
// built with the services as cmd/daisuso builds them (programme.New).
type world struct {
	svcs              *programme.Services
	mai, family, desk people.Actor
	household         people.Household
}

func ptr[T any](v T) *T { return &v }

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	rdb, prefix := storetest.Redis(t)
	svcs := programme.New(programme.Config{DB: storetest.Mongo(t), Redis: rdb, RedisPrefix: prefix,
		CodeSecret: bytes.Repeat([]byte("k"), 32)})
	if err := svcs.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	admin := people.Actor{UserID: "root", Role: people.RoleAdmin}
	prov, err := svcs.People.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindProvince, ProvinceCode: "15"})
	if err != nil {
		t.Fatal(err)
	}
	commune, err := svcs.People.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindCommune, ParentID: prov.ID, CommuneCode: "02728"})
	if err != nil {
		t.Fatal(err)
	}
	home, ok := svcs.People.Units().InsidePoint("02728")
	if !ok {
		t.Fatal("no point inside Mường Hum")
	}
	w := &world{svcs: svcs, mai: people.Actor{UserID: "mai", Role: people.RoleVolunteer, BranchID: commune.ID},
		family: people.Actor{UserID: "fam", Role: people.RoleHousehold},
		desk:   people.Actor{UserID: "desk", Role: people.RoleCommuneStaff, BranchID: commune.ID}}
	if _, err := svcs.People.RegisterVolunteer(ctx, people.Actor{UserID: "mai"}, people.VolunteerInput{Name: ptr("Lò Thị Mai"),
		Phone: ptr("0912 345 001"), BranchID: &commune.ID, Location: &home, Topics: &[]string{"vneid"},
		Consents: &[]string{"matching"}}); err != nil {
		t.Fatal(err)
	}
	if w.household, err = svcs.People.RegisterHousehold(ctx, people.Actor{UserID: "fam"}, people.HouseholdInput{CommuneID: &commune.ID,
		Location: &home, Members: &[]people.Member{{Name: "Giàng A Páo", BirthYear: 1960, Needs: []string{"vneid"}, SelfConsent: true}},
		Consents: &[]string{"matching"}}); err != nil {
		t.Fatal(err)
	}
	out, _, err := svcs.AskHelp(ctx, w.family, programme.HelpRequest{HouseholdID: w.household.ID})
	if err != nil || out.Assignment == nil || out.Assignment.MentorID != "mai" {
		t.Fatalf("the family is not matched to Mai: %+v, %v", out, err)
	}
	return w
}

// held schedules a session of Mai's with the family that began ago, and
// checks it in.
func (w *world) held(t *testing.T, ago time.Duration) sessions.Session {
	t.Helper()
	ctx := context.Background()
	sess, created, err := w.svcs.Sessions.Schedule(ctx, w.mai, sessions.NewSession{ID: uuid.NewString(),
		Learners: []sessions.Learner{{HouseholdID: w.household.ID, Member: 0}}, StartsAt: time.Now().Add(-ago),
		Minutes: 60, Topics: []string{"vneid"}})
	if err != nil || !created {
		t.Fatalf("schedule: %v (created %v)", err, created)
	}
	if sess, _, err = w.svcs.Sessions.CheckIn(ctx, w.mai, sess.ID, sessions.CheckInInput{At: time.Now().Add(-ago + 30*time.Minute), TopicsCovered: []string{"vneid"}}); err != nil {
		t.Fatalf("check-in: %v", err)
	}
	if sess.State != sessions.StateHeld {
		t.Fatalf("checked in: %s", sess.State)
	}
	return sess
}

// A held session is confirmed by its family, not by its mentor, and
// confirming it again changes nothing.
func TestFamilyConfirmsAHeldSession(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sess := w.held(t, time.Hour)
	var rule *errs.RuleError
	if _, err := w.svcs.Sessions.Confirm(ctx, w.mai, sess.ID, ""); !errors.As(err, &rule) || rule.Code != "self_confirmation" {
		t.Fatalf("Mai confirms her own session: %v", err)
	}
	got, err := w.svcs.Sessions.Confirm(ctx, w.family, sess.ID, "")
	if err != nil || got.State != sessions.StateConfirmed || got.Confirmation.Method != "household_app" {
		t.Fatalf("the family confirms: %+v, %v", got, err)
	}
	again, err := w.svcs.Sessions.Confirm(ctx, w.family, sess.ID, "")
	if err != nil || again.Version != got.Version {
		t.Fatalf("a second confirmation: version %d after %d (%v)", again.Version, got.Version, err)
	}
	progress, _, err := w.svcs.Sessions.HouseholdProgress(ctx, w.household.ID)
	if err != nil || len(progress) != 1 || progress[0].Days != 1 {
		t.Fatalf("progress: %+v, %v", progress, err)
	}
}

// The commune desk confirms with the session's code only; wrong codes are
// limited.
func TestDeskConfirmsWithTheCode(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sess := w.held(t, time.Hour)
	code := w.svcs.Sessions.Code(sess)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	var limited bool
	for range 10 {
		_, err := w.svcs.Sessions.Confirm(ctx, w.desk, sess.ID, wrong)
		if err == nil {
			t.Fatal("a wrong code confirmed the session")
		}
		if errors.Is(err, sessions.ErrTooManyAttempts) {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("ten wrong codes and no limit")
	}
	if got, err := w.svcs.Sessions.Get(ctx, w.mai, sess.ID); err != nil || got.State != sessions.StateHeld {
		t.Fatalf("after wrong codes: %s, %v", got.State, err)
	}
	// Another session, at another time (one at the same time would be
	// held for review as an overlap).
	next := w.held(t, 3*time.Hour)
	got, err := w.svcs.Sessions.Confirm(ctx, w.desk, next.ID, w.svcs.Sessions.Code(next))
	if err != nil || got.State != sessions.StateConfirmed || got.Confirmation.Method != "staff_code" {
		t.Fatalf("the right code: %+v, %v", got, err)
	}
}

// Of a cancellation and a check-in made at once from the same version,
// exactly one is applied, and the session ends in the state it gives.
func TestOneOfTwoChangesFromOneVersionWins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for range 5 {
		sess, _, err := w.svcs.Sessions.Schedule(ctx, w.mai, sessions.NewSession{ID: uuid.NewString(),
			Learners: []sessions.Learner{{HouseholdID: w.household.ID, Member: 0}}, StartsAt: time.Now().Add(-time.Hour),
			Minutes: 60, Topics: []string{"vneid"}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var checkedIn, cancelled bool
		wg.Go(func() {
			_, applied, err := w.svcs.Sessions.CheckIn(ctx, w.mai, sess.ID, sessions.CheckInInput{})
			checkedIn = err == nil && applied
		})
		wg.Go(func() {
			_, applied, err := w.svcs.Sessions.Cancel(ctx, w.mai, sess.ID)
			cancelled = err == nil && applied
		})
		wg.Wait()
		got, err := w.svcs.Sessions.Get(ctx, w.mai, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if checkedIn == cancelled {
			t.Fatalf("checked in %v, cancelled %v: want exactly one (state %s)", checkedIn, cancelled, got.State)
		}
		if want := map[bool]string{true: sessions.StateHeld, false: sessions.StateCancelled}[checkedIn]; got.State != want || got.Version != 2 {
			t.Fatalf("state %s version %d, want %s and 2", got.State, got.Version, want)
		}
	}
}
