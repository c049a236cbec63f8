package api

import (
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/people"
	"daisuso/programme"
)

type learnerProgressJSON struct {
	Member      int      `json:"member"`
	Topics      []string `json:"topics_completed"`
	Outcomes    []string `json:"outcomes"`
	SessionDays int      `json:"session_days"`
	Certified   bool     `json:"certified"`
	// Missing is what certification still lacks: "topic:<code>",
	// "outcome:<code>", "second_session_day"; MissingText says it in words.
	Missing     []string `json:"missing"`
	MissingText string   `json:"missing_text,omitempty"`
}

type progressJSON struct {
	HouseholdID   string                `json:"household_id"`
	CoreTopics    []string              `json:"core_topics"`
	Learners      []learnerProgressJSON `json:"learners"`
	DigitalFamily bool                  `json:"digital_family"`
}

func (a *API) householdProgress(c *fiber.Ctx) error {
	ctx := c.UserContext()
	h, err := a.deps.People.Household(ctx, actorOf(c), copyParam(c, "id"))
	if err != nil {
		return err
	}
	ps, family, err := a.deps.Sessions.HouseholdProgress(ctx, h.ID)
	if err != nil {
		return err
	}
	out := progressJSON{HouseholdID: h.ID, CoreTopics: people.CoreTopics, Learners: []learnerProgressJSON{}, DigitalFamily: family}
	lang := language(c)
	for _, p := range ps {
		out.Learners = append(out.Learners, learnerProgressJSON{Member: p.Member, Topics: nonNil(p.Topics), Outcomes: nonNil(p.Outcomes),
			SessionDays: p.Days, Certified: p.Certified, Missing: nonNil(p.Missing), MissingText: missingText(lang, p.Missing)})
	}
	return c.JSON(out)
}

// missingWords are the phrases of missingText: what is missing of each
// kind, and the sentence around them.
var missingWords = map[string][4]string{
	"vi": {"chủ đề ", "tự làm được trên điện thoại: ", "một buổi học vào ngày khác", "Còn thiếu: "},
	"en": {"topics: ", "done on their own phone: ", "a session on another day", "Still missing: "},
}

// missingText says in words what a learner still lacks for certification:
// "Còn thiếu: ...".
func missingText(lang string, missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	var topics, outcomes []string
	day := false
	for _, m := range missing {
		switch kind, code, _ := strings.Cut(m, ":"); kind {
		case "topic":
			topics = append(topics, people.NameOf(people.Topics, code, lang))
		case "outcome":
			outcomes = append(outcomes, people.NameOf(people.Outcomes, code, lang))
		default:
			day = true
		}
	}
	w, ok := missingWords[lang]
	if !ok {
		w = missingWords["vi"]
	}
	var parts []string
	if len(topics) > 0 {
		parts = append(parts, w[0]+strings.Join(topics, ", "))
	}
	if len(outcomes) > 0 {
		parts = append(parts, w[1]+strings.Join(outcomes, ", "))
	}
	if day {
		parts = append(parts, w[2])
	}
	return w[3] + strings.Join(parts, "; ") + "."
}

// ---- public rankings ----

type rankingJSON struct {
	Rank         int    `json:"rank"`
	ID           string `json:"id"`   // commune union id, or province code
	Name         string `json:"name"` // the official name of the commune or province
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	CommuneCode  string `json:"commune_code,omitempty"`
	Households   int    `json:"households" doc:"Households registered with the programme."`
	// Residents is the commune's official figure (the sum over the
	// province's communes that have one), set by its admins; 0 without.
	Residents        int      `json:"residents"`
	ResidentsYear    int      `json:"residents_year,omitempty" doc:"The year of the figure (the latest, for a province)."`
	HasResidents     bool     `json:"has_residents_figure" doc:"Commune rows: whether the commune's admins have given its population; without it there is no per-resident rate."`
	WithoutFigure    int      `json:"communes_without_figure,omitempty" doc:"Province rows: communes counted here with no population figure (left out of the rate)."`
	DigitalFamilies  int      `json:"digital_families"`
	FamilyShare      float64  `json:"digital_family_share"` // 0..1
	Certified        int      `json:"certified_learners"`
	CertifiedPer1000 *float64 `json:"certified_per_1000_residents" doc:"Certified learners per 1,000 residents by the official figure; null without one."`
	Sessions         int      `json:"sessions_in_period"`
}

type rankingList struct {
	Level  string        `json:"level"`
	Period string        `json:"period"`
	By     string        `json:"by"`
	Items  []rankingJSON `json:"items"`
}

// rankingCache keeps computed rankings for a minute: they aggregate whole
// collections, and the public page is read far more often than it changes.
type rankingCache struct {
	mu   sync.Mutex
	at   map[string]time.Time
	data map[string][]programme.Ranking
}

func newRankingCache() *rankingCache {
	return &rankingCache{at: map[string]time.Time{}, data: map[string][]programme.Ranking{}}
}

func (a *API) publicRankings(c *fiber.Ctx) error {
	level, period, by := c.Query("level", "commune"), c.Query("period", gamify.PeriodMonth), c.Query("by", programme.ByFamilies)
	province := c.Query("province")
	switch {
	case level != programme.LevelCommune && level != programme.LevelProvince:
		return &errs.FieldError{Field: "level", Reason: "unknown_code"}
	case period != gamify.PeriodWeek && period != gamify.PeriodMonth:
		return &errs.FieldError{Field: "period", Reason: "unknown_code"}
	case by != programme.ByFamilies && by != programme.ByCertified && by != programme.BySessions:
		return &errs.FieldError{Field: "by", Reason: "unknown_code"}
	case province != "" && !validProvince(province):
		return &errs.FieldError{Field: "province", Reason: "invalid_code"}
	}
	now := a.deps.Now()
	key := level + "|" + period
	a.rankings.mu.Lock()
	all, fresh := a.rankings.data[key], now.Sub(a.rankings.at[key]) < time.Minute
	a.rankings.mu.Unlock()
	if !fresh {
		var err error
		if all, err = a.deps.Programme.Rankings(c.UserContext(), level, programme.PeriodStart(period, now)); err != nil {
			return err
		}
		a.rankings.mu.Lock()
		a.rankings.data[key], a.rankings.at[key] = all, now
		a.rankings.mu.Unlock()
	}
	var rows []programme.Ranking
	for _, r := range all {
		if province == "" || r.ProvinceCode == province {
			rows = append(rows, r)
		}
	}
	programme.Rank(rows, by)
	out := rankingList{Level: level, Period: period, By: by, Items: make([]rankingJSON, len(rows))}
	for i, r := range rows {
		out.Items[i] = rankingJSON{Rank: r.Rank, ID: r.ID, Name: r.Name, ProvinceCode: r.ProvinceCode, ProvinceName: r.ProvinceName,
			CommuneCode: r.CommuneCode, Households: r.Households, Residents: r.Residents, ResidentsYear: r.ResidentsYear,
			HasResidents: r.HasResidents, WithoutFigure: r.WithoutFigure, DigitalFamilies: r.DigitalFamilies, FamilyShare: r.FamilyShare,
			Certified: r.Certified, CertifiedPer1000: r.CertifiedPer1000, Sessions: r.Sessions}
	}
	return c.JSON(out)
}

func validProvince(code string) bool {
	_, _, ok := gamify.ParseScope(gamify.ScopeProvince+":"+code, false)
	return ok
}
