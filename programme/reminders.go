package programme

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"daisuso/gamify"
	"daisuso/matching"
	"daisuso/notify"
	"daisuso/people"
	"daisuso/sessions"
)

// reminders turns what happens in the registry, matching, sessions and
// gamify into notifications: who gets which, when, and what makes one
// moot. Each notification's key names its event and recipient, so an
// event told twice schedules once. A failure here is logged and never
// fails what caused it: the event is already stored.
type reminders struct {
	people   *people.Service
	matching *matching.Service
	sessions *sessions.Service
	notify   *notify.Service
	log      *slog.Logger
	now      func() time.Time
}

// ReminderConsent is the consent purpose without which a volunteer or a
// household gets no reminders (staff and admins get those of their work).
const ReminderConsent = "reminders"

// Days a reminder waits.
const (
	inactiveAfter   = 14 * 24 * time.Hour
	underQuotaAfter = 7 * 24 * time.Hour
	unconfirmedWait = 24 * time.Hour
)

// connectNotify wires the reminders of every part of the service into n,
// and the checks n makes before sending those that may have become moot.
// New calls it after connect.
func connectNotify(p *people.Service, m *matching.Service, g *gamify.Service, s *sessions.Service, n *notify.Service,
	log *slog.Logger, now func() time.Time) {
	r := &reminders{people: p, matching: m, sessions: s, notify: n, log: log, now: now}
	p.AddDataHolder(n)
	m.OnAssigned(r.assigned)
	m.OnQueued(r.queued)
	m.OnReleased(r.released)
	s.OnChange(r.session)
	g.OnBadge(r.badge)
	p.OnVolunteerSaved(r.volunteerSaved)
}

// stills are the checks made when reminders that may be moot fall due.
func stills(m *matching.Service, s *sessions.Service) map[notify.Kind]notify.Still {
	return map[notify.Kind]notify.Still{
		// A learner who had a session since the reminder was made is not inactive.
		notify.KindInactive: func(ctx context.Context, n notify.Notification) (bool, error) {
			active, err := s.ActiveSince(ctx, n.Ref, n.CreatedAt)
			return !active, err
		},
		// A mentor who reached five learners meanwhile needs no nudge.
		notify.KindUnderQuota: func(ctx context.Context, n notify.Notification) (bool, error) {
			list, err := m.Mentees(ctx, n.Ref)
			if err != nil {
				return false, err
			}
			learners := 0
			for _, a := range list {
				learners += a.Learners
			}
			return learners < matching.Quota, nil
		},
	}
}

func (r *reminders) enqueue(ctx context.Context, what string, ns ...notify.Notification) {
	if len(ns) == 0 {
		return
	}
	if err := r.notify.Enqueue(context.WithoutCancel(ctx), ns...); err != nil {
		r.log.Warn("reminder not scheduled", "what", what, "err", err)
	}
}

// householdName is the first name of a household's first member.
func householdName(h people.Household) string {
	if len(h.Members) == 0 {
		return ""
	}
	return people.FirstName(h.Members[0].Name)
}

// assigned: the mentor hears of someone new to help, the household that a
// mentor was found; and the mentor is reminded if the learner goes two
// weeks without a session.
func (r *reminders) assigned(ctx context.Context, a matching.Assignment) {
	v, err := r.people.VolunteerRecord(ctx, a.MentorID)
	if err != nil {
		r.log.Warn("new-match reminder", "err", err)
		return
	}
	h, err := r.people.HouseholdRecord(ctx, a.HouseholdID)
	if err != nil {
		r.log.Warn("new-match reminder", "err", err)
		return
	}
	var ns []notify.Notification
	both := []string{a.MentorID, a.HouseholdID} // whom the texts name: erasing either erases them
	if v.UserID != "" && people.HasConsent(v.Consents, ReminderConsent) {
		ns = append(ns,
			notify.Notification{Key: "new_mentee:" + a.RequestID + ":" + a.MentorID, UserID: v.UserID, Kind: notify.KindNewMentee, Ref: a.RequestID,
				Params: map[string]string{"name": householdName(h)}, Subjects: both},
			notify.Notification{Key: "learner_inactive:" + a.RequestID + ":" + a.MentorID, UserID: v.UserID, Kind: notify.KindInactive, Ref: h.ID,
				Params: map[string]string{"name": householdName(h)}, DueAt: r.now().Add(inactiveAfter), Subjects: both})
	}
	if h.UserID != "" && people.HasConsent(h.Consents, ReminderConsent) {
		ns = append(ns, notify.Notification{Key: "new_match:" + a.RequestID + ":" + a.MentorID, UserID: h.UserID, Kind: notify.KindNewMatch,
			Ref: a.RequestID, Params: map[string]string{"name": people.FirstName(v.Name)}, Subjects: both})
	}
	r.enqueue(ctx, "new match", ns...)
}

// text is a sentence in Vietnamese and English.
type text struct{ vi, en string }

// releaseReasons say to the household and the mentor why a match ended.
var releaseReasons = map[string]text{
	matching.ReleasedOutOfReach:   {"Người đồng hành đã chuyển đi xa hoặc thu hẹp phạm vi đi lại.", "The mentor moved away or shortened how far they travel."},
	matching.ReleasedOverCapacity: {"Người đồng hành đã giảm số người nhận kèm.", "The mentor now takes fewer learners."},
	matching.ReleasedPaused:       {"Người đồng hành đã tạm nghỉ quá 14 ngày.", "The mentor has been paused for more than 14 days."},
	matching.ReleasedMentorLeft:   {"Người đồng hành đã rời chương trình.", "The mentor left the programme."},
}

// released: a match ended for a reason of the mentor's; the household
// hears that a new mentor is sought, the mentor that the learner is passed
// on (unless the mentor left).
func (r *reminders) released(ctx context.Context, a matching.Assignment, reason string) {
	why := releaseReasons[reason]
	key := "match_ended:" + a.RequestID + ":" + a.MentorID
	var ns []notify.Notification
	h, err := r.people.HouseholdRecord(ctx, a.HouseholdID)
	if err != nil {
		r.log.Warn("match-ended notice", "err", err)
		return
	}
	if h.UserID != "" && people.HasConsent(h.Consents, ReminderConsent) {
		ns = append(ns, notify.Notification{Key: key, UserID: h.UserID, Kind: notify.KindMatchEnded, Ref: a.RequestID,
			Params: map[string]string{"reason_vi": why.vi, "reason_en": why.en}, Subjects: []string{a.MentorID, a.HouseholdID}})
	}
	if v, err := r.people.VolunteerRecord(ctx, a.MentorID); err == nil && v.UserID != "" && people.HasConsent(v.Consents, ReminderConsent) {
		ns = append(ns, notify.Notification{Key: "mentee_released:" + a.RequestID + ":" + a.MentorID, UserID: v.UserID,
			Kind: notify.KindMenteeReleased, Ref: a.RequestID,
			Params: map[string]string{"name": householdName(h), "reason_vi": why.vi, "reason_en": why.en}, Subjects: []string{a.MentorID, a.HouseholdID}})
	}
	r.enqueue(ctx, "match ended", ns...)
}

// EscalateOverdue sends the admins of each province union one digest of
// the requests of its communes that waited longer than
// matching.EscalateAfter without a mentor; each request goes up once
// (matching.Overdue marks it). cmd/ runs it with the matching upkeep.
func EscalateOverdue(ctx context.Context, p *people.Service, m *matching.Service, n *notify.Service) (int, error) {
	overdue, err := m.Overdue(ctx)
	if err != nil || len(overdue) == 0 {
		return 0, err
	}
	type digest struct {
		count  int
		places map[string]int
	}
	first := map[string]string{} // province -> its digest's first request: the digest's key
	byProvince := map[string]*digest{}
	var order []string
	communes := map[string]*people.Branch{} // each read once; nil: gone
	for _, r := range overdue {
		commune, seen := communes[r.CommuneID]
		if !seen {
			if b, err := p.Branch(ctx, r.CommuneID); err == nil {
				commune = &b
			}
			communes[r.CommuneID] = commune
		}
		if commune == nil {
			continue // the commune union is gone; nobody to tell
		}
		d := byProvince[commune.ParentID]
		if d == nil {
			d = &digest{places: map[string]int{}}
			byProvince[commune.ParentID] = d
			order = append(order, commune.ParentID)
			first[commune.ParentID] = r.ID
		}
		d.count++
		d.places[commune.Name]++
	}
	sent := 0
	for _, province := range order {
		d := byProvince[province]
		admins, err := p.UsersAt(ctx, []string{province}, []people.Role{people.RoleBranchAdmin}, 200)
		if err != nil {
			return sent, err
		}
		names := slices.Sorted(maps.Keys(d.places))
		parts := make([]string, len(names))
		for i, name := range names {
			parts[i] = name + " (" + notify.FormatInt("vi", d.places[name]) + ")"
		}
		ns := make([]notify.Notification, len(admins))
		for i, u := range admins {
			ns[i] = notify.Notification{Key: "requests_overdue:" + first[province] + ":" + u, UserID: u,
				Kind: notify.KindOverdue, Ref: province, Params: map[string]string{"count": notify.FormatInt("vi", d.count), "places": strings.Join(parts, ", ")}}
		}
		if len(ns) > 0 {
			if err := n.Enqueue(ctx, ns...); err != nil {
				return sent, err
			}
			sent += len(ns)
		}
	}
	return sent, nil
}

// queued: a request nobody could serve waits in the commune queue; its
// staff and the commune union's admins are told.
func (r *reminders) queued(ctx context.Context, req matching.Request) {
	users, err := r.people.Responders(ctx, req.CommuneID)
	if err != nil {
		r.log.Warn("unserved reminder", "err", err)
		return
	}
	place := ""
	if b, err := r.people.Branch(ctx, req.CommuneID); err == nil {
		place = b.Name
	}
	ns := make([]notify.Notification, len(users))
	for i, u := range users {
		ns[i] = notify.Notification{Key: "request_unserved:" + req.ID + ":" + u, UserID: u, Kind: notify.KindUnserved,
			Ref: req.ID, Params: map[string]string{"place": place}, Subjects: []string{req.HouseholdID}}
	}
	r.enqueue(ctx, "unserved request", ns...)
}

// volunteerSaved: a week after joining, a mentor still under five
// learners, and their branch admins, are nudged (checked again when due).
func (r *reminders) volunteerSaved(ctx context.Context, v people.Volunteer) error {
	due := v.CreatedAt.Add(underQuotaAfter)
	if !due.After(r.now()) {
		return nil // an old profile changed: its week is long past
	}
	users := []string{}
	if v.UserID != "" && people.HasConsent(v.Consents, ReminderConsent) {
		users = append(users, v.UserID)
	}
	if admins, err := r.people.AdminsOf(ctx, v.BranchID); err == nil {
		users = append(users, admins...)
	} else {
		r.log.Warn("under-quota reminder", "err", err)
	}
	ns := make([]notify.Notification, len(users))
	for i, u := range users {
		ns[i] = notify.Notification{Key: "mentor_under_quota:" + v.ID + ":" + u, UserID: u, Kind: notify.KindUnderQuota,
			Ref: v.ID, Params: map[string]string{"name": people.FirstName(v.Name)}, DueAt: due, Subjects: []string{v.ID}}
	}
	r.enqueue(ctx, "under-quota", ns...)
	return nil
}

// badge: the volunteer hears of a badge earned.
func (r *reminders) badge(ctx context.Context, volunteerID string, e gamify.Earned) {
	v, err := r.people.VolunteerRecord(ctx, volunteerID)
	if err != nil || v.UserID == "" || !people.HasConsent(v.Consents, ReminderConsent) {
		return
	}
	r.enqueue(ctx, "badge", notify.Notification{Key: "badge_earned:" + volunteerID + ":" + e.Code, UserID: v.UserID,
		Kind: notify.KindBadge, Ref: e.Code, Params: map[string]string{"name": people.FirstName(v.Name), "badge_vi": e.VI, "badge_en": e.EN},
		Subjects: []string{volunteerID}})
}

// sessionParty is one person a session's reminders go to.
type sessionParty struct {
	user, name string   // the recipient and the first name of the other side
	self       string   // the recipient's own first name, for a fallback
	fallback   []string // who reminds them in person if they have no phone
	household  string   // "" for the mentor
	onBehalf   string   // staff reminding a household without the app: its first name
}

// parties are the mentor and the households of a session that have their
// own user; a household registered on someone's behalf has its reminders
// sent to commune staff, who remind it in person.
func (r *reminders) parties(ctx context.Context, sess sessions.Session) ([]sessionParty, error) {
	v, err := r.people.VolunteerRecord(ctx, sess.MentorID)
	if err != nil {
		return nil, err
	}
	staff := map[string][]string{} // by commune: the household's commune, which may not be the mentor's
	staffOf := func(commune string) []string {
		if list, ok := staff[commune]; ok {
			return list
		}
		list, err := r.people.StaffOf(ctx, commune)
		if err != nil {
			r.log.Warn("session reminders: commune staff", "err", err)
		}
		staff[commune] = list
		return list
	}
	var out []sessionParty
	firstLearner := ""
	for _, id := range sess.Households {
		h, err := r.people.HouseholdRecord(ctx, id)
		if err != nil {
			return nil, err
		}
		if firstLearner == "" {
			firstLearner = householdName(h)
		}
		if !people.HasConsent(h.Consents, ReminderConsent) {
			continue
		}
		p := sessionParty{user: h.UserID, name: people.FirstName(v.Name), self: householdName(h), household: h.ID}
		if p.user == "" {
			// no app at all: staff get it in the household's name
			for _, s := range staffOf(h.CommuneID) {
				out = append(out, sessionParty{user: s, name: p.name, household: h.ID, onBehalf: p.self})
			}
			continue
		}
		p.fallback = staffOf(h.CommuneID)
		out = append(out, p)
	}
	if v.UserID != "" && people.HasConsent(v.Consents, ReminderConsent) {
		out = append(out, sessionParty{user: v.UserID, name: firstLearner})
	}
	return out, nil
}

// session: reminders the day before and the hour before; once held, the
// household is asked to confirm after a day; once confirmed, the mentor is
// reminded if the household then goes two weeks without a session.
func (r *reminders) session(ctx context.Context, sess sessions.Session) {
	parties, err := r.parties(ctx, sess)
	if err != nil {
		r.log.Warn("session reminders", "session", sess.ID, "err", err)
		return
	}
	key := func(kind notify.Kind, p sessionParty) string { return string(kind) + ":" + sess.ID + ":" + p.user }
	var ahead []string
	for _, p := range parties {
		ahead = append(ahead, key(notify.KindSessionDayLeft, p), key(notify.KindSessionSoon, p))
	}
	now := r.now()
	subjects := append([]string{sess.MentorID}, sess.Households...) // whom the texts name
	var ns []notify.Notification
	switch sess.State {
	case sessions.StateScheduled:
		at := sess.StartsAt.In(notify.Vietnam).Format("15:04")
		for _, p := range parties {
			base := notify.Notification{UserID: p.user, Ref: sess.ID, Params: map[string]string{"name": p.name, "time": at},
				StartsAt: sess.StartsAt, ExpiresAt: sess.StartsAt, Fallback: p.fallback, RecipientName: p.self, OnBehalfOf: p.onBehalf,
				Subjects: subjects}
			if due := sess.StartsAt.Add(-24 * time.Hour); due.After(now) {
				n := base
				n.Key, n.Kind, n.DueAt = key(notify.KindSessionDayLeft, p), notify.KindSessionDayLeft, due
				ns = append(ns, n)
			}
			if sess.StartsAt.After(now) {
				due := sess.StartsAt.Add(-time.Hour)
				if due.Before(now) {
					due = now
				}
				n := base
				n.Key, n.Kind, n.DueAt = key(notify.KindSessionSoon, p), notify.KindSessionSoon, due
				ns = append(ns, n)
			}
		}
	case sessions.StateCancelled:
		r.cancel(ctx, ahead...)
	case sessions.StateHeld, sessions.StatePendingReview:
		r.cancel(ctx, ahead...)
		if sess.State != sessions.StateHeld || sess.CheckIn == nil {
			break
		}
		for _, p := range parties {
			if p.household == "" {
				continue
			}
			ns = append(ns, notify.Notification{Key: key(notify.KindUnconfirmed, p), UserID: p.user, Kind: notify.KindUnconfirmed,
				Ref: sess.ID, Params: map[string]string{"name": p.name}, DueAt: sess.CheckIn.At.Add(unconfirmedWait),
				Fallback: p.fallback, RecipientName: p.self, OnBehalfOf: p.onBehalf, Subjects: subjects})
		}
	case sessions.StateConfirmed:
		var moot []string
		for _, p := range parties {
			if p.household != "" {
				moot = append(moot, key(notify.KindUnconfirmed, p))
			}
		}
		r.cancel(ctx, moot...)
		if len(parties) == 0 || parties[len(parties)-1].household != "" {
			break // the mentor has no user to remind
		}
		mentor := parties[len(parties)-1]
		for _, p := range parties {
			if p.household == "" {
				continue // staff copies of one household share its key: one reminder each
			}
			name := p.self
			if name == "" {
				name = p.onBehalf
			}
			ns = append(ns, notify.Notification{Key: "learner_inactive:" + p.household + ":" + sess.ID, UserID: mentor.user,
				Kind: notify.KindInactive, Ref: p.household, Params: map[string]string{"name": name}, DueAt: now.Add(inactiveAfter),
				Subjects: subjects})
		}
	}
	r.enqueue(ctx, "session "+sess.State, ns...)
}

func (r *reminders) cancel(ctx context.Context, keys ...string) {
	if err := r.notify.Cancel(context.WithoutCancel(ctx), keys...); err != nil {
		r.log.Warn("reminders not withdrawn", "err", err)
	}
}
