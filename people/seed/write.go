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
}

// Write registers the plan through the registry, as an admin would through
// the API. Demo users are made too: for each commune a branch admin
// "demo-commune-<code>" and a staff member "demo-staff-<code>", so that a
// dev token of either shows that commune. progress, if set, gets the
// number of households written so far now and then.
func Write(ctx context.Context, svc *people.Service, p Plan, progress func(done, total int)) (Summary, error) {
	admin := people.Actor{UserID: "seed", Role: people.RoleAdmin}
	var sum Summary
	prov, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindProvince, Name: p.ProvinceName, ProvinceCode: p.ProvinceCode})
	if err != nil {
		return sum, fmt.Errorf("province: %w", err)
	}
	sum.Branches++
	communeIDs := make([]string, len(p.Communes))
	branchIDs := make([][]string, len(p.Communes))
	for i, c := range p.Communes {
		cm, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindCommune, Name: "Đoàn " + c.Name, ParentID: prov.ID, CommuneCode: c.Code})
		if err != nil {
			return sum, fmt.Errorf("commune %s: %w", c.Name, err)
		}
		communeIDs[i] = cm.ID
		team, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindTechTeam, Name: "Tổ công nghệ số cộng đồng " + c.Name, ParentID: cm.ID})
		if err != nil {
			return sum, fmt.Errorf("team of %s: %w", c.Name, err)
		}
		sum.Branches += 2
		for _, name := range c.Branches {
			b, err := svc.CreateBranch(ctx, admin, people.NewBranch{Kind: people.KindBranch, Name: name, ParentID: cm.ID})
			if err != nil {
				return sum, fmt.Errorf("branch %s: %w", name, err)
			}
			branchIDs[i] = append(branchIDs[i], b.ID)
			sum.Branches++
		}
		for _, u := range []people.User{
			{ID: "demo-commune-" + c.Code, Role: people.RoleBranchAdmin, BranchID: cm.ID},
			{ID: "demo-staff-" + c.Code, Role: people.RoleCommuneStaff, BranchID: team.ID},
		} {
			if _, _, err := svc.EnsureUser(ctx, u); err != nil {
				return sum, err
			}
			sum.Users++
		}
	}
	consents := []string{"matching", "reminders", "public_ranking"}
	for _, v := range p.Volunteers {
		v := v
		_, err := svc.RegisterVolunteer(ctx, admin, people.VolunteerInput{Name: &v.Name, Phone: &v.Phone,
			BranchID: &branchIDs[v.Commune][v.Branch], Location: &v.Point, RadiusKm: &v.RadiusKm,
			Languages: &v.Languages, Topics: &v.Topics, Capacity: &v.Capacity, Consents: &consents})
		if err != nil {
			return sum, fmt.Errorf("volunteer %s: %w", v.Name, err)
		}
		sum.Volunteers++
	}
	// Households are most of the work: four writers at once.
	var done atomic.Int64
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	hhConsents := []string{"matching", "reminders"}
	for _, h := range p.Households {
		h := h
		g.Go(func() error {
			in := people.HouseholdInput{CommuneID: &communeIDs[h.Commune], Location: &h.Point, Members: &h.Members, Consents: &hhConsents}
			if h.Phone != "" {
				in.ContactPhone = &h.Phone
			}
			if _, err := svc.RegisterHousehold(gctx, admin, in); err != nil {
				return fmt.Errorf("household in %s: %w", p.Communes[h.Commune].Name, err)
			}
			if n := done.Add(1); progress != nil && n%500 == 0 {
				mu.Lock()
				progress(int(n), len(p.Households))
				mu.Unlock()
			}
			return nil
		})
	}
	err = g.Wait()
	sum.Households = int(done.Load())
	return sum, err
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
