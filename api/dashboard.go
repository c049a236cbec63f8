package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/api/dashboard"
	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/people"
	"daisuso/programme"
	"daisuso/sessions"
)

// The indicators of the branch dashboard (programme.Indicators), as JSON
// and as a CSV file.

// indicatorsJSON is the report with its unit named as the registry names
// branches.
type indicatorsJSON struct {
	Unit branchJSON `json:"unit"`
	// Context is the commune a branch belongs to, named above a branch's
	// own figures; absent for a commune or province.
	Context *branchJSON `json:"context,omitempty"`
	programme.Indicators
}

var indicatorsQuery = []queryParam{
	{"branch_id", "Your unit (default) or a node under it."},
	{"campaign", "A campaign id; default the newest active campaign over the unit, else the all-time one."},
	{"weeks", "Weeks of trend, 1 to 26 (default 8)."},
}

func (a *API) getIndicators(c *fiber.Ctx) error {
	out, err := a.indicators(c)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *API) indicators(c *fiber.Ctx) (indicatorsJSON, error) {
	q := programme.IndicatorsQuery{UnitID: string([]byte(c.Query("branch_id"))), CampaignID: string([]byte(c.Query("campaign"))),
		Weeks: programme.DefaultTrendWeeks}
	if s := c.Query("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return indicatorsJSON{}, &errs.FieldError{Field: "weeks", Reason: "out_of_range"}
		}
		q.Weeks = n
	}
	in, err := a.deps.Programme.Indicators(c.UserContext(), actorOf(c), q)
	if err != nil {
		return indicatorsJSON{}, err
	}
	out := indicatorsJSON{Unit: toBranchJSON(in.Unit, a.units()), Indicators: in}
	if in.Context != nil {
		cj := toBranchJSON(*in.Context, a.units())
		out.Context = &cj
	}
	return out, nil
}

// getIndicatorsCSV: the same indicators as a CSV file that Excel opens with
// its Vietnamese intact: UTF-8 with a byte-order mark, CRLF line ends, and
// the separator a Vietnamese Excel expects when asked (?sep=semicolon; the
// default is a comma).
func (a *API) getIndicatorsCSV(c *fiber.Ctx) error {
	sep := ','
	switch c.Query("sep", "comma") {
	case "comma":
	case "semicolon":
		sep = ';'
	default:
		return &errs.FieldError{Field: "sep", Reason: "unknown_code"}
	}
	in, err := a.indicators(c)
	if err != nil {
		return err
	}
	body, err := indicatorsCSV(in, sep)
	if err != nil {
		return err
	}
	code := in.Unit.CommuneCode
	if code == "" {
		code = in.Unit.ProvinceCode
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="chi-so-%s-%s.csv"`, code,
		a.deps.Now().In(gamify.Vietnam).Format(time.DateOnly)))
	return c.Send(body)
}

// indicatorsCSV writes the report's rows, then its teams' targets after a
// blank line, with Vietnamese headings.
func indicatorsCSV(in indicatorsJSON, sep rune) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = sep, true
	head := []string{"Cấp", "Mã", "Mã đơn vị hành chính", "Tên", "Tình nguyện viên", "Đủ 1 kèm 5", "Tỷ lệ 1 kèm 5 (%)", "Người học được kèm", "Hộ được kèm",
		"Buổi tuần này", "Hộ gia đình", "Gia đình số", "Tỷ lệ Gia đình số (%)", "Người đạt chuẩn", "Yêu cầu chờ", "Người học chờ",
		"Chờ lâu nhất (giờ)"}
	for _, o := range sessions.Outcomes {
		head = append(head, people.NameOf(people.Outcomes, o, "vi"))
	}
	for _, wk := range in.Weeks {
		head = append(head, "Buổi tuần "+wk)
	}
	_ = w.Write(head)
	level := map[string]string{"unit": "Tổng", "commune": "Xã", "branch": "Chi đoàn"}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	dec := func(p *float64, scale float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p*scale, 'f', 1, 64)
	}
	rows := append(append([]programme.IndicatorRow{in.Total}, in.Communes...), in.Branches...)
	for _, r := range rows {
		rec := []string{level[r.Level], r.ID, r.UnitCode, r.Name, strconv.Itoa(r.Mentors), strconv.Itoa(r.MentorsAtFive),
			dec(&r.AtFiveShare, 100), strconv.Itoa(r.Learners), strconv.Itoa(r.HouseholdsServed), strconv.Itoa(r.SessionsThisWeek),
			num(r.Households), num(r.DigitalFamilies), dec(r.FamilyShare, 100), num(r.CertifiedLearners), num(r.RequestsWaiting),
			num(r.LearnersWaiting), dec(r.OldestWaitHours, 1)}
		for _, o := range sessions.Outcomes {
			rec = append(rec, strconv.Itoa(r.Outcomes[o]))
		}
		for _, n := range r.Trend.Sessions {
			rec = append(rec, strconv.Itoa(n))
		}
		_ = w.Write(rec)
	}
	if len(in.Teams) > 0 {
		// The technology teams' targets, after a blank line.
		_ = w.Write([]string{})
		_ = w.Write([]string{"Tổ công nghệ số", "Mã", "Kỳ", "Từ ngày", "Đến ngày", "Mục tiêu", "Chỉ tiêu", "Đạt", "Tỷ lệ (%)"})
		for _, tm := range in.Teams {
			period := "Tháng"
			if tm.Period == people.TargetPerCampaign {
				period = "Chiến dịch " + tm.CampaignID
			}
			for _, x := range tm.Targets {
				_ = w.Write([]string{tm.Name, tm.ID, period, tm.From.In(gamify.Vietnam).Format("02/01/2006"),
					tm.To.Add(-time.Second).In(gamify.Vietnam).Format("02/01/2006"), people.NameOf(people.TeamTargetKinds, x.Kind, "vi"),
					strconv.Itoa(x.Target), strconv.Itoa(x.Value), strconv.FormatFloat(x.Share*100, 'f', 1, 64)})
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// ---- the dashboard's own files ----

// dashboardCSP lets the page load only its own files and talk only to this
// service and, for production sign-in, Google's Identity Toolkit.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"

// dashboardFile serves an embedded file: /dashboard is index.html.
func (a *API) dashboardFile(c *fiber.Ctx) error { return serveAsset(c, a.assets, dashboardCSP) }

// appFile serves the app's files: /app is index.html. The service worker
// (sw.js) controls /app/ and nothing else.
func (a *API) appFile(c *fiber.Ctx) error { return serveAsset(c, a.appFiles, dashboardCSP) }

// serveAsset serves an embedded file by the :file parameter ("" is
// index.html), revalidated by ETag on every load: the app's service worker
// keeps its own copy for when the network is gone.
func serveAsset(c *fiber.Ctx, assets map[string]dashboard.Asset, csp string) error {
	name := c.Params("file")
	if name == "" {
		name = "index.html"
	}
	as, ok := assets[name]
	if !ok {
		return newError(fiber.StatusNotFound, "not_found", nil)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, as.ETag)
	if c.Get(fiber.HeaderIfNoneMatch) == as.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, as.Type)
	return c.Send(as.Body)
}

type dashboardConfigJSON struct {
	// DevMode: sign in with a dev token (and ask for one by user id).
	DevMode bool `json:"dev_mode"`
	// FirebaseAPIKey is the web API key of the Firebase project, public by
	// design: the page signs in with e-mail and password through Google's
	// Identity Toolkit and sends the ID token it gets.
	FirebaseAPIKey string `json:"firebase_api_key,omitempty"`
}

func (a *API) dashboardConfig(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(dashboardConfigJSON{DevMode: a.deps.DevTokens != nil, FirebaseAPIKey: a.deps.FirebaseWebAPIKey})
}
