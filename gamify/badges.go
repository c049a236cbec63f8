package gamify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"daisuso/people"
)

// Stats are the facts about a volunteer that badges are earned on. The
// sessions package computes them from confirmed sessions only.
type Stats struct {
	ConfirmedSessions        int
	DistinctLearners         int // learners with a confirmed session
	CertifiedLearners        int
	ScamLessons              int // confirmed sessions that covered scam_safety
	MinorityLanguageSessions int // confirmed sessions with a learner who speaks a minority language the mentor speaks
	Campaigns                []string
	// SessionWeeks are the local weeks ("w2026-48") with a confirmed
	// session; PausedWeeks those the volunteer was paused in.
	SessionWeeks []string
	PausedWeeks  []string
}

// Badge is one badge kind: its code, names and the rule that earns it,
// with why it was earned in both languages (%d is the rule's count).
type Badge struct {
	Code         string
	VI, EN       string
	WhyVI, WhyEN string
	earned       func(Stats, time.Time) (bool, int)
}

// BadgeRules are every badge and its rule: the one place they are defined.
var BadgeRules = []Badge{
	{"first_session", "Buổi hướng dẫn đầu tiên", "First session", "Buổi hướng dẫn đầu tiên được xác nhận", "First confirmed session",
		func(s Stats, _ time.Time) (bool, int) { return s.ConfirmedSessions >= 1, s.ConfirmedSessions }},
	{"one_with_five", "1 kèm 5", "One with five", "%d người học có buổi hướng dẫn được xác nhận", "%d learners with confirmed sessions",
		func(s Stats, _ time.Time) (bool, int) { return s.DistinctLearners >= 5, s.DistinctLearners }},
	{"sessions_10", "10 buổi hướng dẫn", "10 sessions", "%d buổi hướng dẫn được xác nhận", "%d confirmed sessions",
		func(s Stats, _ time.Time) (bool, int) { return s.ConfirmedSessions >= 10, s.ConfirmedSessions }},
	{"sessions_50", "50 buổi hướng dẫn", "50 sessions", "%d buổi hướng dẫn được xác nhận", "%d confirmed sessions",
		func(s Stats, _ time.Time) (bool, int) { return s.ConfirmedSessions >= 50, s.ConfirmedSessions }},
	{"certified_5", "5 người học đạt chuẩn", "5 certified learners", "%d người học đạt chuẩn kỹ năng số", "%d learners certified",
		func(s Stats, _ time.Time) (bool, int) { return s.CertifiedLearners >= 5, s.CertifiedLearners }},
	{"scam_safety_teacher", "Người gác cổng an toàn số", "Scam-safety teacher", "%d buổi phòng chống lừa đảo được xác nhận", "%d confirmed scam-safety lessons",
		func(s Stats, _ time.Time) (bool, int) { return s.ScamLessons >= 5, s.ScamLessons }},
	{"minority_language", "Đại sứ song ngữ", "Minority-language mentor", "%d buổi hướng dẫn bằng tiếng dân tộc", "%d sessions in a minority language",
		func(s Stats, _ time.Time) (bool, int) {
			return s.MinorityLanguageSessions >= 1, s.MinorityLanguageSessions
		}},
	{"campaign_participant", "Chiến sĩ chiến dịch", "Campaign participant", "Có điểm trong %d chiến dịch", "Points in %d campaigns",
		func(s Stats, _ time.Time) (bool, int) { return len(s.Campaigns) >= 1, len(s.Campaigns) }},
	{"streak_4_weeks", "Bền bỉ 4 tuần", "4-week streak", "%d tuần liền có buổi hướng dẫn được xác nhận", "%d weeks in a row with a confirmed session",
		func(s Stats, now time.Time) (bool, int) {
			n := Streak(s.SessionWeeks, s.PausedWeeks, now)
			return n >= 4, n
		}},
}

// why fills a badge's reason in both languages.
func (b Badge) why(n int) (vi, en string) {
	vi, en = b.WhyVI, b.WhyEN
	if strings.Contains(vi, "%d") {
		vi = fmt.Sprintf(vi, n)
	}
	if strings.Contains(en, "%d") {
		en = fmt.Sprintf(en, n)
	}
	return vi, en
}

// Streak counts the weeks in a row, back from the week of now (or the one
// before, if this week has no session yet), that had a confirmed session;
// a paused week neither counts nor breaks the streak.
func Streak(sessionWeeks, pausedWeeks []string, now time.Time) int {
	week := func(t time.Time) string { id, _ := PeriodID(PeriodWeek, t); return id }
	t := now
	if !slices.Contains(sessionWeeks, week(t)) {
		t = t.AddDate(0, 0, -7)
	}
	n := 0
	for range 520 {
		w := week(t)
		switch {
		case slices.Contains(sessionWeeks, w):
			n++
		case slices.Contains(pausedWeeks, w):
		default:
			return n
		}
		t = t.AddDate(0, 0, -7)
	}
	return n
}

// MinPausedDays is how much of a week a volunteer must have been paused
// for the week to count as paused: most of it, so that a pause of a few
// minutes cannot keep a streak alive through a week without sessions.
const MinPausedDays = 4

// PausedWeeks are the weeks (ids as PeriodID gives them) in which the
// pauses, up to now for one still open, covered at least MinPausedDays.
func PausedWeeks(pauses []people.Pause, now time.Time) []string {
	covered := map[string]time.Duration{}
	var order []string
	for _, p := range pauses {
		to := p.To
		if to.IsZero() || to.After(now) {
			to = now
		}
		for t := p.From; t.Before(to); {
			id, _ := PeriodID(PeriodWeek, t)
			end, _ := periodEnd(id)
			next := to
			if end.Before(to) {
				next = end
			}
			if _, ok := covered[id]; !ok {
				order = append(order, id)
			}
			covered[id] += next.Sub(t)
			t = next
		}
	}
	var out []string
	for _, id := range order {
		if covered[id] >= MinPausedDays*24*time.Hour {
			out = append(out, id)
		}
	}
	return out
}

// Earned is a badge a volunteer holds, with when and why.
type Earned struct {
	Code         string
	VI, EN       string
	EarnedAt     time.Time
	WhyVI, WhyEN string
}

// EvaluateBadges awards every badge whose rule now holds and that the
// volunteer does not hold yet; each is awarded exactly once (the badge's
// _id is volunteer#code). It returns the new ones.
func (s *Service) EvaluateBadges(ctx context.Context, volunteerID string, st Stats) ([]Earned, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	held, err := s.badges.of(ctx, volunteerID)
	if err != nil {
		return nil, err
	}
	var out []Earned
	for _, b := range BadgeRules {
		if slices.ContainsFunc(held, func(e Earned) bool { return e.Code == b.Code }) {
			continue
		}
		ok, n := b.earned(st, now)
		if !ok {
			continue
		}
		e := Earned{Code: b.Code, VI: b.VI, EN: b.EN, EarnedAt: now}
		e.WhyVI, e.WhyEN = b.why(n)
		made, err := s.badges.insert(ctx, volunteerID, e)
		if err != nil {
			return out, err
		}
		if made {
			out = append(out, e)
			for _, f := range s.onBadge {
				f(ctx, volunteerID, e)
			}
		}
	}
	return out, nil
}

// Badges returns a volunteer's badges, oldest first.
func (s *Service) Badges(ctx context.Context, volunteerID string) ([]Earned, error) {
	return s.badges.of(ctx, volunteerID)
}

// Level is a step of the volunteer's progress by all-time points.
type Level struct {
	Number    int
	VI, EN    string
	MinPoints int
}

// Levels, from the first.
var Levels = []Level{
	{1, "Tân binh số", "Newcomer", 0},
	{2, "Đại sứ đồng", "Bronze ambassador", 100},
	{3, "Đại sứ bạc", "Silver ambassador", 300},
	{4, "Đại sứ vàng", "Gold ambassador", 800},
	{5, "Đại sứ kim cương", "Diamond ambassador", 2000},
}

// LevelOf is the level of an all-time points total, with the points still
// needed for the next (0 at the top).
func LevelOf(points int) (Level, int) {
	l := Levels[0]
	for _, x := range Levels {
		if points >= x.MinPoints {
			l = x
		}
	}
	if l.Number < len(Levels) {
		return l, Levels[l.Number].MinPoints - points
	}
	return l, 0
}

// Progress is a volunteer's points, level and campaigns, from the ledger.
type Progress struct {
	Points    int // all-time base points
	Level     Level
	ToNext    int
	Campaigns []string // campaigns they earned points in, besides the all-time one
}

// ProgressOf sums a volunteer's ledger.
func (s *Service) ProgressOf(ctx context.Context, volunteerID string) (Progress, error) {
	entries, err := s.ledger.of(ctx, volunteerID)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	for _, e := range entries {
		p.Points += e.Points
		for _, c := range e.Credits {
			if c.Campaign != AllTime && !slices.Contains(p.Campaigns, c.Campaign) {
				p.Campaigns = append(p.Campaigns, c.Campaign)
			}
		}
	}
	p.Level, p.ToNext = LevelOf(p.Points)
	return p, nil
}
