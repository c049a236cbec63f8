package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/google/uuid"

	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/matching"
	"daisuso/people"
	"daisuso/people/seed"
	"daisuso/sessions"
)

// seedDemo fills an empty database with a demo province through the
// registry; a database that has branches already is left as it is.
func seedDemo(ctx context.Context, log *slog.Logger, db *mongo.Database, svc *people.Service, m *matching.Service, g *gamify.Service,
	sessionsAt func(now func() time.Time) *sessions.Service, households string) error {
	n := 5000
	if households != "" {
		v, err := strconv.Atoi(households)
		if err != nil || v < 20 || v > 200_000 {
			return fmt.Errorf("DEMO_HOUSEHOLDS must be a number from 20 to 200000")
		}
		n = v
	}
	has, err := db.Collection("branches").CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if has > 0 {
		log.Info("demo data already present; not seeding again")
		return nil
	}
	// The store client bounds each operation without a deadline by a second
	// (to fail fast when a store is down); a batch of thousands of writes
	// sometimes has one slower than that, so seeding has its own.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	start := time.Now()
	plan := seed.Generate(seed.Config{Seed: 1, Households: n})
	log.Info("seeding a demo province", "communes", len(plan.Communes), "volunteers", len(plan.Volunteers), "households", n)
	// Households first; one in fifty asks for help before any volunteer
	// has registered (they wait: material for batch matching), one in fifty
	// after (matched online).
	w, err := seed.WriteUnits(ctx, svc, plan)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// Five of the households that ask after the volunteers came register
	// themselves, so that one can sign in as a family.
	w.HouseholdUser = func(i int) string {
		if i%50 == 25 && i/50 < 5 {
			return fmt.Sprintf("demo-hh-%d", i/50+1)
		}
		return ""
	}
	if err := w.Households(ctx, func(done, total int) { log.Info("seeding", "households", done, "of", total) }); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	before, _, err := demoRequests(ctx, svc, m, w.HouseholdIDs, 0)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := w.Volunteers(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	after, _, err := demoRequests(ctx, svc, m, w.HouseholdIDs, 25)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := demoCampaign(ctx, svc, g, plan, w); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The requests that waited were served when the volunteers registered
	// (matching.ServeWaiting): every match, old and new, gets its history.
	var matched []matching.Outcome
	for _, o := range append(before, after...) {
		if out, err := m.Outcome(ctx, o.Request.ID); err == nil && out.Assignment != nil {
			matched = append(matched, out)
		}
	}
	held, err := demoHistory(ctx, svc, sessionsAt, matched)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sum := w.Summary
	log.Info("demo province ready", "branches", sum.Branches, "volunteers", sum.Volunteers, "households", sum.Households,
		"help_requests_matched", len(matched), "help_requests_waiting", len(before)+len(after)-len(matched),
		"sessions_held", held, "took", time.Since(start).Round(time.Second))
	code := plan.Communes[0].Code
	log.Info("demo sign-in (POST /v1/dev/token with the user_id; the role comes with it)",
		"national_admin", "demo-admin (role admin)", "commune_union_admin", "demo-commune-"+code,
		"commune_staff", "demo-staff-"+code, "volunteers", seed.VolunteerUser(0)+" to "+seed.VolunteerUser(len(plan.Volunteers)-1),
		"households", "demo-hh-1 to demo-hh-5")
	return nil
}

// demoCampaign launches the province's campaign, running since five weeks
// with a doubled day two weeks back and targets, and gives each commune's
// technology team monthly targets.
func demoCampaign(ctx context.Context, svc *people.Service, g *gamify.Service, plan seed.Plan, w *seed.Writer) error {
	now := time.Now()
	_, err := g.CreateCampaign(ctx, gamify.NewCampaign{Name: "Thanh niên chung tay phổ cập kỹ năng số",
		Scope: gamify.ScopeProvince + ":" + plan.ProvinceCode, StartsAt: now.AddDate(0, 0, -35), EndsAt: now.AddDate(0, 0, 25),
		Multipliers: []gamify.Multiplier{{Date: now.AddDate(0, 0, -14).In(gamify.Vietnam).Format(time.DateOnly), Factor: 2}},
		Targets:     map[string]int{"sessions": 300, "certified_learners": 40, "digital_families": 40, "mentors_at_five": 60}},
		"seed", nil)
	if err != nil {
		return err
	}
	admin := people.Actor{UserID: "seed", Role: people.RoleAdmin}
	for _, c := range plan.Communes {
		cm, err := svc.CommuneByCode(ctx, c.Code)
		if err != nil {
			return err
		}
		if _, err := svc.SetTeamTargets(ctx, admin, people.TeamTargets{TeamID: cm + "-team", Period: people.TargetPerMonth,
			Values: map[string]int{"people_supported": 40, "sessions": 60, "problems_solved": 80, "vneid_activated": 30, "epayment_setup": 20}}); err != nil {
			return err
		}
	}
	return nil
}

// demoHistory has the mentors of the matched requests hold the sessions of
// the last four weeks, as the app would have recorded them: each checked
// in an hour after it was held and confirmed at the commune desk with its
// code an hour later (a clock of its own stands in for those days). Every
// other request's learners are certified (two sessions on different days,
// every core topic and outcome); the rest had one session on VNeID.
func demoHistory(ctx context.Context, svc *people.Service, sessionsAt func(func() time.Time) *sessions.Service, matched []matching.Outcome) (int, error) {
	var clock time.Time
	ss := sessionsAt(func() time.Time { return clock })
	today := time.Now().In(gamify.Vietnam)
	day := func(back int, hour int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()-back, hour, 0, 0, 0, gamify.Vietnam)
	}
	perMentor := map[string]int{}
	held := 0
	hold := func(mentor people.Actor, at time.Time, learners []sessions.Learner, topics []string, results []sessions.Result) error {
		clock = at.Add(time.Hour)
		id := uuid.NewString()
		if _, _, err := ss.Schedule(ctx, mentor, sessions.NewSession{ID: id, Learners: learners, StartsAt: at, Minutes: 60}); err != nil {
			return err
		}
		sess, _, err := ss.CheckIn(ctx, mentor, id, sessions.CheckInInput{At: at, TopicsCovered: topics, Results: results})
		if err != nil {
			return err
		}
		// The desk of the session's commune (the mentor's) confirms it.
		commune, err := svc.Branch(ctx, sess.CommuneID)
		if err != nil {
			return err
		}
		staff := people.Actor{UserID: "demo-staff-" + commune.CommuneCode, Role: people.RoleCommuneStaff, BranchID: commune.ID + "-team"}
		clock = at.Add(2 * time.Hour)
		if _, err := ss.Confirm(ctx, staff, id, ss.Code(sess)); err != nil {
			return err
		}
		held++
		return nil
	}
	for k, o := range matched {
		a := o.Assignment
		c := perMentor[a.MentorID]
		perMentor[a.MentorID]++
		if c >= 7 {
			continue // a few weeks hold seven rounds
		}
		mentor := people.Actor{UserID: a.MentorID, Role: people.RoleVolunteer}
		var learners []sessions.Learner
		for _, i := range o.Request.Members {
			learners = append(learners, sessions.Learner{HouseholdID: a.HouseholdID, Member: i})
		}
		if k%2 == 0 {
			all := make([]sessions.Result, len(learners))
			for i, l := range learners {
				all[i] = sessions.Result{HouseholdID: l.HouseholdID, Member: l.Member, Outcomes: sessions.CertOutcomes}
			}
			if err := hold(mentor, day(26-3*c, 9), learners, people.CoreTopics, all); err != nil {
				return held, err
			}
			if err := hold(mentor, day(max(1, 12-2*c), 16), learners, people.CoreTopics, nil); err != nil {
				return held, err
			}
			continue
		}
		first := []sessions.Result{{HouseholdID: a.HouseholdID, Member: learners[0].Member, Outcomes: []string{"vneid_activated"}}}
		if err := hold(mentor, day(26-3*c, 9), learners[:1], []string{"vneid"}, first); err != nil {
			return held, err
		}
	}
	return held, nil
}

// demoRequests has one household in fifty (from the offset-th) ask for
// help, through the same matcher the API uses.
func demoRequests(ctx context.Context, svc *people.Service, m *matching.Service, ids []string, offset int) (outcomes []matching.Outcome, waiting int, err error) {
	admin := people.Actor{UserID: "seed", Role: people.RoleAdmin}
	for i := offset; i < len(ids); i += 50 {
		h, err := svc.Household(ctx, admin, ids[i])
		if err != nil {
			return outcomes, waiting, err
		}
		set, err := h.Learners(nil, nil)
		var none *errs.RuleError
		if errors.As(err, &none) {
			continue // no member wants to learn anything
		}
		if err != nil {
			return outcomes, waiting, err
		}
		out, err := m.Submit(ctx, matching.Request{HouseholdID: h.ID, CommuneID: h.CommuneID, RequestedBy: admin.UserID,
			Cell: h.Cell, Members: set.Members, Language: set.Language, LanguageRequired: set.Required, Topics: set.Topics, RadiusKm: people.DefaultRadiusKm})
		if err != nil {
			return outcomes, waiting, err
		}
		if out.State != matching.StateMatched {
			waiting++
		}
		outcomes = append(outcomes, out)
	}
	return outcomes, waiting, nil
}

// writeSeed prints a generated province of N households as JSON lines.
func writeSeed(args []string, w io.Writer) error {
	n := 100_000
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 || v > 10_000_000 {
			return fmt.Errorf("seed: the number of households must be from 1 to 10000000")
		}
		n = v
	}
	return seed.WriteJSONL(w, seed.Generate(seed.Config{Seed: 1, Households: n}))
}
