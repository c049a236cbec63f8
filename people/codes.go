package people

import "daisuso/errs"

// Code is an entry of one of the fixed lists below: a stable code the apps
// send, with its Vietnamese and English names.
type Code struct {
	Code string
	VI   string
	EN   string
}

// Topics are what a mentor teaches and a learner asks for. This is the one
// list of topic codes in the service.
var Topics = []Code{
	{"smartphone_basics", "Sử dụng điện thoại thông minh cơ bản", "Smartphone basics"},
	{"vneid", "Định danh điện tử VNeID", "VNeID digital identity"},
	{"public_services", "Dịch vụ công trực tuyến", "Online public services"},
	{"cashless_payment", "Thanh toán không dùng tiền mặt", "Cashless payment"},
	{"scam_safety", "Phòng tránh lừa đảo trực tuyến", "Staying safe from online scams"},
	{"ecommerce", "Thương mại điện tử", "E-commerce"},
	{"ai_tools", "Sử dụng công cụ trí tuệ nhân tạo", "AI tools"},
}

// CoreTopics are the topics a learner completes to be certified
// ("đạt chuẩn kỹ năng số").
var CoreTopics = []string{"smartphone_basics", "vneid", "public_services", "cashless_payment", "scam_safety"}

// Languages a mentor speaks and a learner uses: Vietnamese and the largest
// minority languages of Vietnam (2019 census order), as ISO 639 codes.
// "tay" and "tha" are kept as the apps send them for Tày and Thái, although
// ISO 639-3 gives those letters to Atayal and Thai; the ISO 639-3 codes of
// Tày (tyz) and Tai Dam (blt) are accepted as aliases.
var Languages = []Code{
	{"vi", "Tiếng Việt", "Vietnamese"},
	{"tay", "Tiếng Tày", "Tày"},
	{"tha", "Tiếng Thái", "Thái (Tai Dam/Tai Don)"},
	{"mtq", "Tiếng Mường", "Mường"},
	{"hmn", "Tiếng H'Mông", "Hmong"},
	{"khm", "Tiếng Khmer", "Khmer"},
	{"nut", "Tiếng Nùng", "Nùng"},
	{"ium", "Tiếng Dao", "Dao (Iu Mien)"},
	{"zho", "Tiếng Hoa", "Chinese (Hoa)"},
	{"jra", "Tiếng Gia Rai", "Jarai"},
	{"rad", "Tiếng Ê Đê", "Rade (Ê Đê)"},
	{"bdq", "Tiếng Ba Na", "Bahnar"},
	{"sed", "Tiếng Xơ Đăng", "Sedang"},
	{"kpm", "Tiếng Cơ Ho", "Koho"},
	{"cjm", "Tiếng Chăm", "Eastern Cham"},
}

var languageAliases = map[string]string{"tyz": "tay", "blt": "tha", "twh": "tha", "km": "khm", "zh": "zho", "vie": "vi"}

// Accessibility needs a learner may have; mentors and classes adapt to them.
var Accessibility = []Code{
	{"elderly", "Người cao tuổi", "Elderly"},
	{"low_vision", "Thị lực kém", "Low vision"},
	{"hearing", "Khiếm thính", "Hearing impairment"},
	{"mobility", "Hạn chế vận động", "Limited mobility"},
	{"low_literacy", "Biết đọc viết hạn chế", "Low literacy"},
}

// Purposes for which a person consents to the use of their data
// (Law 91/2025/QH15 asks for consent per purpose).
var Purposes = []Code{
	{"matching", "Ghép cặp với người hướng dẫn gần nhà", "Matching with a nearby mentor"},
	{"reminders", "Nhận nhắc nhở qua ứng dụng", "Receiving reminders"},
	{"public_ranking", "Hiển thị tên trên bảng xếp hạng công khai", "Showing the name on public rankings"},
}

// Outcomes are what a mentor records for a learner at a check-in: things
// the learner did on their own phone, the indicators the plan monitors.
var Outcomes = []Code{
	{"vneid_activated", "Đã kích hoạt tài khoản VNeID", "VNeID account activated"},
	{"epayment_setup", "Đã cài đặt thanh toán điện tử", "E-payment set up"},
	{"first_online_service", "Đã dùng dịch vụ công trực tuyến lần đầu", "First online public service used"},
	{"scam_lesson", "Đã học cách phòng tránh lừa đảo", "Scam-safety lesson taken"},
}

// NameOf is the name of code in list in lang ("vi" or "en"); the code
// itself when it is not in the list.
func NameOf(list []Code, code, lang string) string {
	for _, c := range list {
		if c.Code == code {
			if lang == "en" {
				return c.EN
			}
			return c.VI
		}
	}
	return code
}

func known(list []Code, code string) bool {
	for _, c := range list {
		if c.Code == code {
			return true
		}
	}
	return false
}

// NormalizeLanguage returns the service's code for a language code, or "".
func NormalizeLanguage(code string) string {
	if a, ok := languageAliases[code]; ok {
		code = a
	}
	if known(Languages, code) {
		return code
	}
	return ""
}

// checkCodes checks every code of values against list, drops duplicates and
// keeps the order; field names the field in the error.
func checkCodes(field string, values []string, list []Code, max int) ([]string, error) {
	if len(values) > max {
		return nil, &errs.FieldError{Field: field, Reason: "too_many"}
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !known(list, v) {
			return nil, &errs.FieldError{Field: field, Reason: "unknown_code"}
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

func checkLanguages(field string, values []string) ([]string, error) {
	if len(values) > len(Languages) {
		return nil, &errs.FieldError{Field: field, Reason: "too_many"}
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(values))
	for _, v := range values {
		n := NormalizeLanguage(v)
		if n == "" {
			return nil, &errs.FieldError{Field: field, Reason: "unknown_code"}
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}
