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

	"daisuso/matching"
	"daisuso/people"
	"daisuso/people/seed"
)

// seedDemo fills an empty database with a demo province through the
// registry; a database that has branches already is left as it is.
func seedDemo(ctx context.Context, log *slog.Logger, db *mongo.Database, svc *people.Service, m *matching.Service, households string) error {
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
	// (to fail fast when a store is down); a batch of thousands of writes on
	// FerretDB sometimes has one slower than that, so seeding has its own.
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
	if err := w.Households(ctx, func(done, total int) { log.Info("seeding", "households", done, "of", total) }); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m1, w1, err := demoRequests(ctx, svc, m, w.HouseholdIDs, 0)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := w.Volunteers(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m2, w2, err := demoRequests(ctx, svc, m, w.HouseholdIDs, 25)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sum, matched, waiting := w.Summary, m1+m2, w1+w2
	log.Info("demo province ready", "branches", sum.Branches, "volunteers", sum.Volunteers, "households", sum.Households,
		"help_requests_matched", matched, "help_requests_waiting", waiting,
		"took", time.Since(start).Round(time.Second), "sign_in_as", "demo-commune-"+plan.Communes[0].Code+" (branch_admin)")
	return nil
}

// demoRequests has one household in fifty (from the offset-th) ask for
// help, through the same matcher the API uses.
func demoRequests(ctx context.Context, svc *people.Service, m *matching.Service, ids []string, offset int) (matched, waiting int, err error) {
	admin := people.Actor{UserID: "seed", Role: people.RoleAdmin}
	for i := offset; i < len(ids); i += 50 {
		h, err := svc.Household(ctx, admin, ids[i])
		if err != nil {
			return matched, waiting, err
		}
		set, err := h.Learners(nil, nil)
		var none *people.RuleError
		if errors.As(err, &none) {
			continue // no member wants to learn anything
		}
		if err != nil {
			return matched, waiting, err
		}
		out, err := m.Submit(ctx, matching.Request{HouseholdID: h.ID, CommuneID: h.CommuneID, RequestedBy: admin.UserID,
			Cell: h.Cell, Members: set.Members, Language: set.Language, LanguageRequired: set.Required, Topics: set.Topics, RadiusKm: people.DefaultRadiusKm})
		if err != nil {
			return matched, waiting, err
		}
		if out.State == matching.StateMatched {
			matched++
		} else {
			waiting++
		}
	}
	return matched, waiting, nil
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
