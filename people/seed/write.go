package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"daisuso/people"
)

// Summary counts what Write created.
type Summary struct {
	Branches, Volunteers, Households, Users int
	// HouseholdIDs are the ids given to the plan's households, in order.
	HouseholdIDs []string
}

// Write registers the plan through the registry, as an admin would through
// the API: the union hierarchy with demo users, the households, then the
// volunteers. progress, if set, gets the number of households written so
// far now and then.
func Write(ctx context.Context, svc *people.Service, p Plan, progress func(done, total int)) (Summary, error) {
	w, err := WriteUnits(ctx, svc, p)
	if err != nil {
		return w.Summary, err
	}
	if err := w.Households(ctx, progress); err != nil {
		return w.Summary, err
	}
	err = w.Volunteers(ctx)
	return w.Summary, err
}

// Writer writes a plan step by step, so that a demo can act in between
// (ask for help before any volunteer has registered, say).
type Writer struct {
	Summary
	// HouseholdUser, when set, names the user a household registers
	// itself as ("" for one the commune desk registers).
	HouseholdUser func(i int) string
	svc           *people.Service
	plan          Plan
	communeIDs    []string
	branchIDs     [][]string
}

var seedAdmin = people.Actor{UserID: "seed", Role: people.RoleAdmin}

// WriteUnits writes the union hierarchy. Demo users are made too: for each
// commune a branch admin "demo-commune-<code>" and a staff member
// "demo-staff-<code>", so that a dev token of either shows that commune.
func WriteUnits(ctx context.Context, svc *people.Service, p Plan) (*Writer, error) {
	admin := seedAdmin
	w := &Writer{svc: svc, plan: p}
	sum := &w.Summary
	prov, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindProvince, ProvinceCode: p.ProvinceCode})
	if err != nil {
		return w, fmt.Errorf("province: %w", err)
	}
	sum.Branches++
	communeIDs := make([]string, len(p.Communes))
	branchIDs := make([][]string, len(p.Communes))
	for i, c := range p.Communes {
		cm, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindCommune, ParentID: prov.ID, CommuneCode: c.Code})
		if err != nil {
			return w, fmt.Errorf("commune %s: %w", c.Name, err)
		}
		communeIDs[i] = cm.ID
		team, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindTechTeam, Name: "Tổ công nghệ số cộng đồng " + c.Name, ParentID: cm.ID})
		if err != nil {
			return w, fmt.Errorf("team of %s: %w", c.Name, err)
		}
		sum.Branches += 2
		for _, name := range c.Branches {
			b, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindBranch, Name: name, ParentID: cm.ID})
			if err != nil {
				return w, fmt.Errorf("branch %s: %w", name, err)
			}
			branchIDs[i] = append(branchIDs[i], b.ID)
			sum.Branches++
		}
		for _, u := range []people.User{
			{ID: "demo-commune-" + c.Code, Role: people.RoleBranchAdmin, BranchID: cm.ID},
			{ID: "demo-staff-" + c.Code, Role: people.RoleCommuneStaff, BranchID: team.ID},
		} {
			if _, _, err := svc.EnsureUser(ctx, u); err != nil {
				return w, err
			}
			sum.Users++
		}
	}
	w.communeIDs, w.branchIDs = communeIDs, branchIDs
	return w, nil
}

// VolunteerUser is the user id the plan's i-th volunteer signs in as (in
// dev mode, a token for it): each registers themself, as in the app.
func VolunteerUser(i int) string { return fmt.Sprintf("demo-vol-%04d", i+1) }

// Volunteers registers the plan's volunteers, each as themself.
func (w *Writer) Volunteers(ctx context.Context) error {
	consents := []string{"matching", "reminders", "public_ranking"}
	for i, v := range w.plan.Volunteers {
		v := v
		self := people.Actor{UserID: VolunteerUser(i)}
		_, err := w.svc.RegisterVolunteer(ctx, self, people.VolunteerInput{Name: &v.Name, Phone: &v.Phone,
			BranchID: &w.branchIDs[v.Commune][v.Branch], Location: &v.Point, RadiusKm: &v.RadiusKm,
			Languages: &v.Languages, Topics: &v.Topics, Capacity: &v.Capacity, Consents: &consents})
		if err != nil {
			return fmt.Errorf("volunteer %s: %w", v.Name, err)
		}
		w.Summary.Volunteers++
	}
	return nil
}

// Households registers the plan's households, four at a time.
func (w *Writer) Households(ctx context.Context, progress func(done, total int)) error {
	p := w.plan
	// Households are most of the work: four writers at once.
	var done atomic.Int64
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	hhConsents := []string{"matching", "reminders"}
	w.HouseholdIDs = make([]string, len(p.Households))
	for i, h := range p.Households {
		h := h
		g.Go(func() error {
			in := people.HouseholdInput{CommuneID: &w.communeIDs[h.Commune], Location: &h.Point, Members: &h.Members, Consents: &hhConsents}
			if h.Phone != "" {
				in.ContactPhone = &h.Phone
			}
			by := seedAdmin
			if w.HouseholdUser != nil {
				if u := w.HouseholdUser(i); u != "" {
					by = people.Actor{UserID: u}
				}
			}
			hh, err := w.svc.RegisterHousehold(gctx, by, in)
			if err != nil {
				return fmt.Errorf("household in %s: %w", p.Communes[h.Commune].Name, err)
			}
			w.HouseholdIDs[i] = hh.ID
			if n := done.Add(1); progress != nil && n%500 == 0 {
				mu.Lock()
				progress(int(n), len(p.Households))
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	w.Summary.Households = int(done.Load())
	return err
}

// WriteJSONL writes the plan as JSON lines (one record a line, with a
// "type" of commune, volunteer or household) for benchmarks that load a
// province from a file. The exact points are in it: it is synthetic data.
func WriteJSONL(w io.Writer, p Plan) error {
	enc := json.NewEncoder(w)
	for _, c := range p.Communes {
		if err := enc.Encode(map[string]any{"type": "commune", "commune": c}); err != nil {
			return err
		}
	}
	for _, v := range p.Volunteers {
		if err := enc.Encode(map[string]any{"type": "volunteer", "volunteer": v}); err != nil {
			return err
		}
	}
	for _, h := range p.Households {
		if err := enc.Encode(map[string]any{"type": "household", "household": h}); err != nil {
			return err
		}
	}
	return nil
}
