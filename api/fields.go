package api

import (
	"fmt"
	"strconv"
	"strings"
)

// fieldNames name the fields of request bodies and queries for people, in
// Vietnamese and English; a path such as members[0].name reads "họ tên của
// thành viên thứ 1". A field not listed is shown as sent.
var fieldNames = map[string]text{
	"name": {"họ tên", "name"}, "phone": {"số điện thoại", "phone number"}, "contact_phone": {"số điện thoại liên hệ", "contact phone"},
	"branch_id": {"đơn vị (chi đoàn)", "branch"}, "commune_id": {"xã", "commune"}, "parent_id": {"đơn vị cấp trên", "parent unit"},
	"household_id": {"hộ gia đình", "household"}, "location": {"vị trí", "location"}, "lat": {"vĩ độ", "latitude"}, "lng": {"kinh độ", "longitude"},
	"radius_km": {"bán kính đi lại (km)", "travel radius (km)"}, "capacity": {"số người nhận kèm", "number of learners"},
	"languages": {"ngôn ngữ", "languages"}, "language": {"ngôn ngữ", "language"}, "topics": {"chủ đề", "topics"},
	"needs": {"nhu cầu học", "learning needs"}, "accessibility": {"hỗ trợ đặc biệt", "accessibility needs"},
	"availability": {"thời gian rảnh", "availability"}, "consents": {"sự đồng ý", "consents"}, "members": {"thành viên", "members"},
	"birth_year": {"năm sinh", "birth year"}, "guardian_name": {"tên người giám hộ", "guardian's name"},
	"starts_at": {"thời gian bắt đầu", "start time"}, "ends_at": {"thời gian kết thúc", "end time"}, "minutes": {"số phút", "minutes"},
	"learners": {"người học", "learners"}, "member": {"thành viên", "member"}, "at": {"thời điểm", "time"},
	"topics_covered": {"chủ đề đã hướng dẫn", "topics covered"}, "results": {"kết quả", "results"}, "outcomes": {"kết quả đạt được", "outcomes"},
	"code": {"mã xác nhận", "confirmation code"}, "decision": {"quyết định", "decision"}, "kind": {"loại", "kind"},
	"province_code": {"mã tỉnh", "province code"}, "commune_code": {"mã xã", "commune code"}, "province": {"mã tỉnh", "province code"}, "commune": {"mã xã", "commune code"}, "scope": {"phạm vi", "scope"},
	"multipliers": {"hệ số nhân điểm", "multipliers"}, "targets": {"mục tiêu", "targets"}, "title": {"tiêu đề", "title"},
	"body": {"nội dung", "message"}, "audience": {"đối tượng", "audience"}, "id": {"mã", "id"}, "items": {"mục", "items"},
	"confirm": {"xác nhận", "confirmation"}, "period": {"kỳ", "period"}, "campaign_id": {"chiến dịch", "campaign"},
	"values": {"chỉ tiêu", "values"}, "token": {"mã thiết bị", "device token"}, "platform": {"nền tảng", "platform"},
	"paused": {"tạm nghỉ", "paused"}, "limit": {"số dòng", "limit"}, "cursor": {"vị trí trang", "page cursor"},
}

// fieldLabel words a field path in lang: members[0].name is "họ tên của
// thành viên thứ 1" ("name of member 1").
func fieldLabel(lang, path string) string {
	parts := strings.Split(path, ".")
	var words []string
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		name, index, _ := strings.Cut(p, "[")
		label := name
		if t, ok := fieldNames[name]; ok {
			label = t.vi
			if lang == "en" {
				label = t.en
			}
		}
		if index != "" {
			if n, err := strconv.Atoi(strings.TrimSuffix(index, "]")); err == nil {
				if lang == "en" {
					label = fmt.Sprintf("%s %d", strings.TrimSuffix(label, "s"), n+1)
				} else {
					label = fmt.Sprintf("%s thứ %d", label, n+1)
				}
			}
		}
		words = append(words, label)
	}
	if lang == "en" {
		return strings.Join(words, " of ")
	}
	return strings.Join(words, " của ")
}

// reasonMessages say what to do about a field, by the reason the check
// gave; %s is the field in words. A reason not listed gets invalid_input.
var reasonMessages = map[string]text{
	"required":                {"Cần điền %s.", "Please fill in the %s."},
	"out_of_range":            {"%s nằm ngoài khoảng cho phép; xem giới hạn trong tài liệu API (/openapi.json).", "The %s is out of the allowed range; the limits are in the API description (/openapi.json)."},
	"unknown_code":            {"%s có giá trị không nằm trong danh sách cho phép; xem danh sách trong /openapi.json.", "The %s has a value that is not in the allowed list; see /openapi.json."},
	"too_many":                {"%s có quá nhiều mục.", "The %s has too many entries."},
	"length":                  {"%s quá dài hoặc quá ngắn.", "The %s is too long or too short."},
	"invalid_characters":      {"%s có ký tự không được dùng; chỉ dùng chữ cái (có dấu), số, dấu cách và - ' . ,", "The %s has characters that are not allowed; use letters, digits, spaces and - ' . ,"},
	"duplicate":               {"%s bị lặp lại.", "The %s is repeated."},
	"invalid_phone":           {"%s không đúng dạng số điện thoại Việt Nam (ví dụ 0912 345 678).", "The %s is not a Vietnamese phone number (for example 0912 345 678)."},
	"invalid_date":            {"%s phải là ngày dạng YYYY-MM-DD.", "The %s must be a date as YYYY-MM-DD."},
	"invalid_id":              {"%s không phải một mã hợp lệ.", "The %s is not a valid id."},
	"invalid_uuid":            {"%s phải là một UUID do ứng dụng tạo.", "The %s must be a UUID the app makes."},
	"unknown_member":          {"%s không có trong hộ gia đình.", "The %s is not in the household."},
	"one_of_province_commune": {"Cần đúng một trong hai tham số province (mã tỉnh) hoặc commune (mã xã).", "Give exactly one of province (a province code) or commune (a commune code)."},
	"invalid_slot":            {"%s phải có ngày 1 (thứ Hai) đến 7 (Chủ nhật) và giờ HH:MM, giờ bắt đầu trước giờ kết thúc.", "The %s needs a day from 1 (Monday) to 7 (Sunday) and times as HH:MM, the start before the end."},
}
