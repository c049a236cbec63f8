package notify

import (
	"strings"
	"time"
)

// Kind is what a notification is about.
type Kind string

// The kinds the service sends.
const (
	KindNewMatch       Kind = "new_match"           // a mentor was found (to the household)
	KindNewMentee      Kind = "new_mentee"          // someone new to help (to the mentor)
	KindSessionDayLeft Kind = "session_tomorrow"    // a session in 24 hours
	KindSessionSoon    Kind = "session_soon"        // a session in one hour
	KindUnconfirmed    Kind = "session_unconfirmed" // held 24 h ago and not yet confirmed (to the other side)
	KindInactive       Kind = "learner_inactive"    // no session with a learner for 14 days (to the mentor)
	KindUnderQuota     Kind = "mentor_under_quota"  // under five learners a week after joining
	KindUnserved       Kind = "request_unserved"    // a request waits in the commune queue
	KindBadge          Kind = "badge_earned"        // a badge was earned
	KindBroadcast      Kind = "broadcast"           // a branch admin's campaign message
	KindDigest         Kind = "digest"              // the morning summary of what the daily cap held back
	KindMatchEnded     Kind = "match_ended"         // the mentor can no longer come; a new one is sought (to the household)
	KindMenteeReleased Kind = "mentee_released"     // a learner went back to matching (to the mentor)
	KindOverdue        Kind = "requests_overdue"    // requests waiting longer than a week, once (to the province union's admins)
)

// kindInfo is how a kind behaves and reads. Titles and bodies are
// templates: {name} and the like are filled from the notification's
// Params, which hold nothing beyond a first name and short labels.
type kindInfo struct {
	ttl time.Duration // how long it stays worth showing, when the producer sets no expiry
	// urgent kinds are not held by the daily cap.
	urgent   bool
	vi, en   text
	collapse string // collapse-key group; "" uses the kind
}

type text struct{ title, body string }

var kinds = map[Kind]kindInfo{
	KindNewMatch: {ttl: 72 * time.Hour,
		vi: text{"Đã có người đồng hành", "{name} sẽ giúp gia đình bạn dùng điện thoại cho dịch vụ công. Mở ứng dụng để xem."},
		en: text{"A mentor was found", "{name} will help your family use the phone for public services. Open the app to see."}},
	KindNewMentee: {ttl: 72 * time.Hour,
		vi: text{"Có người cần bạn giúp", "{name} ở gần bạn cần giúp dùng dịch vụ công trực tuyến. Mở ứng dụng để hẹn buổi học."},
		en: text{"Someone needs your help", "{name}, near you, needs help with online public services. Open the app to plan a session."}},
	KindSessionDayLeft: {ttl: 24 * time.Hour, collapse: "session",
		vi: text{"Buổi học ngày mai", "Ngày mai lúc {time} có buổi học với {name}."},
		en: text{"Session tomorrow", "Tomorrow at {time} you have a session with {name}."}},
	KindSessionSoon: {ttl: time.Hour, urgent: true, collapse: "session",
		vi: text{"Buổi học sắp bắt đầu", "Lúc {time} có buổi học với {name}."},
		en: text{"Session soon", "At {time} you have a session with {name}."}},
	KindUnconfirmed: {ttl: 72 * time.Hour, collapse: "session",
		vi: text{"Xác nhận buổi học", "{name} đã ghi lại buổi học hôm qua. Hãy xác nhận nếu buổi học đã diễn ra."},
		en: text{"Confirm the session", "{name} logged yesterday's session. Please confirm it if it took place."}},
	KindInactive: {ttl: 72 * time.Hour,
		vi: text{"Lâu rồi chưa gặp", "Đã 14 ngày chưa có buổi học với {name}. Hẹn một buổi nhé?"},
		en: text{"It has been a while", "No session with {name} for 14 days. Time to plan one?"}},
	KindUnderQuota: {ttl: 72 * time.Hour,
		vi: text{"Chưa đủ 1 kèm 5", "Sau một tuần, {name} chưa kèm đủ 5 người. Hãy cùng tìm thêm người cần giúp."},
		en: text{"Not yet 1 to 5", "After a week, {name} mentors fewer than 5 people. Let us find more who need help."}},
	KindUnserved: {ttl: 48 * time.Hour,
		vi: text{"Có người đang chờ hỗ trợ", "Một yêu cầu ở {place} chưa có người đồng hành. Mở ứng dụng để phân công."},
		en: text{"Someone is waiting for help", "A request in {place} has no mentor yet. Open the app to assign one."}},
	KindBadge: {ttl: 7 * 24 * time.Hour,
		vi: text{"Huy hiệu mới", "Chúc mừng {name}! Bạn vừa nhận huy hiệu “{badge_vi}”."},
		en: text{"New badge", "Congratulations {name}! You earned the “{badge_en}” badge."}},
	KindBroadcast: {ttl: 48 * time.Hour,
		vi: text{"{title}", "{body}"},
		en: text{"{title}", "{body}"}},
	KindMatchEnded: {ttl: 7 * 24 * time.Hour,
		vi: text{"Đang tìm người đồng hành mới", "{reason_vi} Hệ thống đang tìm người đồng hành mới gần gia đình bạn; mở ứng dụng để xem."},
		en: text{"Looking for a new mentor", "{reason_en} A new mentor near your family is being sought; open the app to see."}},
	KindMenteeReleased: {ttl: 7 * 24 * time.Hour,
		vi: text{"Đã chuyển người học", "{name} đã được chuyển để ghép với người đồng hành khác: {reason_vi}"},
		en: text{"A learner was passed on", "{name} goes back to matching with another mentor: {reason_en}"}},
	KindOverdue: {ttl: 7 * 24 * time.Hour,
		vi: text{"Yêu cầu chờ quá 7 ngày", "{count} yêu cầu hỗ trợ đã chờ hơn 7 ngày mà chưa có người đồng hành: {places}. Cần điều thêm tình nguyện viên."},
		en: text{"Requests waiting over 7 days", "{count} help requests have waited more than 7 days without a mentor: {places}. More volunteers are needed."}},
	KindDigest: {ttl: 24 * time.Hour, urgent: true,
		vi: text{"Thông báo mới", "Bạn có thông báo mới trong ứng dụng Đại sứ số."},
		en: text{"New notifications", "You have new notifications in the Đại sứ số app."}},
}

// Known reports whether k is one of the kinds.
func (k Kind) Known() bool { _, ok := kinds[k]; return ok }

// onBehalf prefixes a notification redirected to someone who reminds its
// recipient in person (a mentor or commune staff).
var onBehalf = map[string]string{"vi": "Nhắc giúp {for}: ", "en": "Please remind {for}: "}

// Render returns the title and body of a notification in the locale ("vi"
// unless it is "en").
func Render(n Notification, locale string) (title, body string) {
	info := kinds[n.Kind]
	t := info.vi
	if locale == "en" {
		t = info.en
	} else {
		locale = "vi"
	}
	fill := func(s string) string {
		for k, v := range n.Params {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	// Broadcast text comes from an admin: it is not a template, so that a
	// "{name}" typed by the admin is shown as typed.
	if n.Kind == KindBroadcast {
		title, body = n.Params["title"], n.Params["body"]
	} else {
		title, body = fill(t.title), fill(t.body)
	}
	if n.OnBehalfOf != "" {
		body = strings.ReplaceAll(onBehalf[locale], "{for}", n.OnBehalfOf) + body
	}
	return title, body
}

// Locale returns "en" for English and "vi" for anything else.
func Locale(s string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "en") {
		return "en"
	}
	return "vi"
}
