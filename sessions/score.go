package sessions

import (
	"context"
	"slices"
	"time"

	"daisuso/gamify"
	"daisuso/people"
)

// score turns a confirmed session into what it earns: points for the
// session and each learner's first outcome of a kind, certifications, Gia
// đình số households, the mentor's fifth learner, and badges. Every step is insert-only under a unique key, so
// scoring the same session again (a retried confirmation) changes nothing.
func (s *Service) score(ctx context.Context, sess Session) error {
	mentor, err := s.people.VolunteerRecord(ctx, sess.MentorID)
	if err != nil {
		return err
	}
	who, err := s.who(ctx, mentor)
	if err != nil {
		return err
	}
	sc := &scoring{s: s, sess: sess, who: who, at: heldAt(sess), communes: map[string]string{}}
	if err := sc.award(ctx, "session:"+sess.ID, gamify.ReasonSession, sess.ID); err != nil {
		return err
	}
	if err := sc.learners(ctx); err != nil {
		return err
	}
	if err := sc.families(ctx); err != nil {
		return err
	}
	st, err := s.stats(ctx, mentor)
	if err != nil {
		return err
	}
	if st.DistinctLearners >= 5 {
		if err := sc.award(ctx, "quota:"+mentor.ID, gamify.ReasonQuotaReached, mentor.ID); err != nil {
			return err
		}
	}
	p, err := s.gamify.ProgressOf(ctx, mentor.ID)
	if err != nil {
		return err
	}
	st.Campaigns = p.Campaigns
	_, err = s.gamify.EvaluateBadges(ctx, mentor.ID, st)
	return err
}

// scoring is the scoring of one confirmed session: everything it earns is
// the mentor's (who) and dated at.
type scoring struct {
	s        *Service
	sess     Session
	who      gamify.Who
	at       time.Time
	communes map[string]string // household -> commune, each read once
}

func (sc *scoring) award(ctx context.Context, key, reason, source string) error {
	_, _, err := sc.s.gamify.Award(ctx, gamify.Award{Key: key, Reason: reason, Source: source, Who: sc.who, At: sc.at})
	return err
}

func (sc *scoring) communeOf(ctx context.Context, householdID string) (string, error) {
	if c, ok := sc.communes[householdID]; ok {
		return c, nil
	}
	h, err := sc.s.people.HouseholdRecord(ctx, householdID)
	if err != nil {
		return "", err
	}
	sc.communes[householdID] = h.CommuneID
	return h.CommuneID, nil
}

// learners awards each learner's outcomes, and certifies the learners who
// now meet the rule.
func (sc *scoring) learners(ctx context.Context) error {
	evidence := map[string]map[int]*Evidence{} // household -> its learners', read once
	for _, r := range sc.sess.CheckIn.Results {
		l := Learner{HouseholdID: r.HouseholdID, Member: r.Member}
		for _, o := range r.Outcomes {
			if err := sc.award(ctx, "outcome:"+l.Key()+":"+o, gamify.ReasonOutcome, l.HouseholdID); err != nil {
				return err
			}
		}
		commune, err := sc.communeOf(ctx, l.HouseholdID)
		if err != nil {
			return err
		}
		ev, ok := evidence[l.HouseholdID]
		if !ok {
			if ev, err = sc.s.evidence(ctx, l.HouseholdID, sc.sess); err != nil {
				return err
			}
			evidence[l.HouseholdID] = ev
		}
		certified, err := sc.s.certify(ctx, sc.sess, l, commune, sc.at, ev[l.Member])
		if err != nil {
			return err
		}
		if certified {
			if err := sc.award(ctx, "cert:"+l.Key(), gamify.ReasonCertified, l.HouseholdID); err != nil {
				return err
			}
		}
	}
	return nil
}

// families records the session's households with a certified member as
// Gia đình số, and awards it to the mentor who certified that member.
func (sc *scoring) families(ctx context.Context) error {
	for _, h := range sc.sess.Households {
		certs, err := sc.s.st.certsOf(ctx, h)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			continue // nobody in it certified yet
		}
		cert := certs[0]
		commune, err := sc.communeOf(ctx, h)
		if err != nil {
			return err
		}
		if _, err := sc.s.st.markFamily(ctx, familyDoc{ID: h, CommuneID: commune, MentorID: cert.MentorID, At: sc.at}); err != nil {
			return err
		}
		if cert.MentorID == sc.sess.MentorID {
			if err := sc.award(ctx, "family:"+h, gamify.ReasonFamily, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// heldAt is when a confirmed session's work was done, by which everything
// it earns is dated (week, month, campaign window, multiplier, streak): the
// check-in time the phone recorded, or the confirmation or review if that
// is earlier (a held time ahead of every clock that a reviewer approved).
func heldAt(sess Session) time.Time {
	at := sess.CheckIn.At
	var decided time.Time
	if sess.Confirmation != nil {
		decided = sess.Confirmation.At
	}
	if sess.Review != nil {
		decided = sess.Review.At
	}
	if !decided.IsZero() && decided.Before(at) {
		return decided
	}
	return at
}

// certify records a learner as certified once e, the evidence of their
// confirmed sessions, meets the rule (see Evidence.Missing) and reports whether they
// are. It reports true again for a learner certified before, so that a
// scoring cut off between the record and its award makes the award when
// retried (the award's key keeps it single).
func (s *Service) certify(ctx context.Context, sess Session, l Learner, communeID string, at time.Time, e *Evidence) (bool, error) {
	if e == nil || len(e.Missing()) > 0 {
		return false, nil
	}
	_, err := s.st.certify(ctx, certDoc{ID: l.Key(), HouseholdID: l.HouseholdID, Member: l.Member,
		CommuneID: communeID, MentorID: sess.MentorID, At: at})
	return err == nil, err
}

// evidence gathers, per member, what the household's confirmed sessions
// recorded for them; also is a session just confirmed, counted whether or
// not the store already returns it.
func (s *Service) evidence(ctx context.Context, householdID string, also ...Session) (map[int]*Evidence, error) {
	list, err := s.st.confirmedOf(ctx, householdID)
	if err != nil {
		return nil, err
	}
	for _, a := range also {
		if !slices.ContainsFunc(list, func(x Session) bool { return x.ID == a.ID }) {
			list = append(list, a)
		}
	}
	out := map[int]*Evidence{}
	for _, sess := range list {
		if !sess.counts() || sess.CheckIn == nil {
			continue
		}
		for _, r := range sess.CheckIn.Results {
			if r.HouseholdID != householdID {
				continue
			}
			if out[r.Member] == nil {
				out[r.Member] = &Evidence{}
			}
			out[r.Member].add(heldAt(sess), sess.CheckIn.TopicsOf(r), r.Outcomes)
		}
	}
	return out, nil
}

// who is the mentor as the boards need them.
func (s *Service) who(ctx context.Context, v people.Volunteer) (gamify.Who, error) {
	w := gamify.Who{VolunteerID: v.ID, Name: people.FirstName(v.Name), BranchID: v.BranchID, CommuneID: v.CommuneID,
		ProvinceCode: v.ProvinceCode, CommuneCode: v.CommuneCode}
	if b, err := s.people.Branch(ctx, v.BranchID); err == nil {
		w.BranchName = b.Name
	} else {
		return gamify.Who{}, err
	}
	if v.CommuneID != "" {
		c, err := s.people.Branch(ctx, v.CommuneID)
		if err != nil {
			return gamify.Who{}, err
		}
		w.CommuneName = c.Name
	}
	return w, nil
}

// stats are the badge facts of a mentor, from their confirmed sessions.
func (s *Service) stats(ctx context.Context, v people.Volunteer) (gamify.Stats, error) {
	all, err := s.st.ofMentor(ctx, v.ID, time.Time{}, time.Time{})
	if err != nil {
		return gamify.Stats{}, err
	}
	var st gamify.Stats
	learners := map[string]bool{}
	for _, sess := range all {
		if !sess.counts() || sess.CheckIn == nil {
			continue
		}
		st.ConfirmedSessions++
		for _, r := range sess.CheckIn.Results {
			learners[Learner{HouseholdID: r.HouseholdID, Member: r.Member}.Key()] = true
		}
		if slices.Contains(sess.CheckIn.TopicsCovered, "scam_safety") ||
			slices.ContainsFunc(sess.CheckIn.Results, func(r Result) bool { return slices.Contains(r.Outcomes, "scam_lesson") }) {
			st.ScamLessons++
		}
		if slices.ContainsFunc(sess.Learners, func(l Learner) bool {
			return l.Language != "" && l.Language != "vi" && slices.Contains(v.Languages, l.Language)
		}) {
			st.MinorityLanguageSessions++
		}
		w, _ := gamify.PeriodID(gamify.PeriodWeek, sess.CheckIn.At)
		if !slices.Contains(st.SessionWeeks, w) {
			st.SessionWeeks = append(st.SessionWeeks, w)
		}
	}
	st.DistinctLearners = len(learners)
	certs, err := s.st.certsBy(ctx, v.ID)
	if err != nil {
		return gamify.Stats{}, err
	}
	st.CertifiedLearners = len(certs)
	st.PausedWeeks = gamify.PausedWeeks(pausesOf(v), s.now())
	return st, nil
}

// pausesOf is a volunteer's pause history, with a pause begun before the
// history was kept as an open one.
func pausesOf(v people.Volunteer) []people.Pause {
	ps := v.Pauses
	if v.Paused && !v.PausedAt.IsZero() && (len(ps) == 0 || !ps[len(ps)-1].To.IsZero() && ps[len(ps)-1].From.Before(v.PausedAt)) {
		ps = append(slices.Clone(ps), people.Pause{From: v.PausedAt})
	}
	return ps
}

// Streak is a volunteer's current streak: the weeks in a row with a
// confirmed session, paused weeks neither counting nor breaking it.
func (s *Service) Streak(ctx context.Context, v people.Volunteer) (int, error) {
	st, err := s.stats(ctx, v)
	if err != nil {
		return 0, err
	}
	return gamify.Streak(st.SessionWeeks, st.PausedWeeks, s.now()), nil
}

// LearnerProgress is what a learner has completed and what they still
// lack for certification (Evidence.Missing; empty once certified).
type LearnerProgress struct {
	Member    int
	Topics    []string
	Outcomes  []string
	Days      int // local days with a confirmed session
	Certified bool
	Missing   []string
}

// HouseholdProgress returns each learner's evidence toward certification
// and whether the household is a Gia đình số.
func (s *Service) HouseholdProgress(ctx context.Context, householdID string) ([]LearnerProgress, bool, error) {
	ev, err := s.evidence(ctx, householdID)
	if err != nil {
		return nil, false, err
	}
	certs, err := s.st.certsOf(ctx, householdID)
	if err != nil {
		return nil, false, err
	}
	for _, c := range certs {
		if ev[c.Member] == nil {
			ev[c.Member] = &Evidence{}
		}
	}
	out := make([]LearnerProgress, 0, len(ev))
	for member, e := range ev {
		p := LearnerProgress{Member: member, Topics: slices.Sorted(slices.Values(e.Topics)), Outcomes: slices.Sorted(slices.Values(e.Outcomes)),
			Days: len(e.Days), Missing: e.Missing()}
		if slices.ContainsFunc(certs, func(c certDoc) bool { return c.Member == member }) {
			p.Certified, p.Missing = true, nil
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b LearnerProgress) int { return a.Member - b.Member })
	return out, len(certs) > 0, nil
}

// CommuneCounts are a commune's results for the public rankings.
type CommuneCounts struct {
	Families  int // households that are a Gia đình số
	Certified int // certified learners
	Sessions  int // confirmed sessions checked in since the period began
}

// CountByCommune sums families, certified learners and confirmed sessions
// since `since` per commune: of the given communes, or of all when none is
// given.
func (s *Service) CountByCommune(ctx context.Context, since time.Time, communes ...string) (map[string]CommuneCounts, error) {
	return s.st.countByCommune(ctx, since, communes)
}

// FamiliesIn returns the households of the communes that are Gia đình số
// (a member certified), by id: the coverage map's certified households.
func (s *Service) FamiliesIn(ctx context.Context, communeIDs []string) (map[string]bool, error) {
	list, err := s.st.familiesIn(ctx, communeIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, f := range list {
		out[f.ID] = true
	}
	return out, nil
}

// What a Mark records.
const (
	MarkSession   = "session"   // a confirmed session, at its check-in
	MarkCertified = "certified" // a learner certified
	MarkFamily    = "family"    // a household became a Gia đình số
)

// Mark is one thing that counts, for the dashboard's trends: where and when.
// BranchID is the mentor's branch, known for sessions only.
type Mark struct {
	Kind      string
	CommuneID string
	BranchID  string
	At        time.Time
}

// MaxMarks bounds what Activity reads of each kind; a province has a few
// thousand sessions a week at the programme's pace.
const MaxMarks = 500_000

// Activity lists the confirmed sessions, certified learners and new Gia
// đình số of the communes since `since` (each query on the commune index).
func (s *Service) Activity(ctx context.Context, communes []string, since time.Time) ([]Mark, error) {
	if len(communes) == 0 {
		return nil, nil
	}
	sess, err := s.st.confirmedIn(ctx, communes, since, time.Time{}, false)
	if err != nil {
		return nil, err
	}
	marks := make([]Mark, 0, len(sess))
	for _, x := range sess {
		if x.CheckIn != nil {
			marks = append(marks, Mark{Kind: MarkSession, CommuneID: x.CommuneID, BranchID: x.BranchID, At: x.CheckIn.At})
		}
	}
	certs, fams, err := s.st.certifiedSince(ctx, communes, since)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		marks = append(marks, Mark{Kind: MarkCertified, CommuneID: c.CommuneID, At: c.At})
	}
	for _, f := range fams {
		marks = append(marks, Mark{Kind: MarkFamily, CommuneID: f.CommuneID, At: f.At})
	}
	return marks, nil
}
