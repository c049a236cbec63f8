package api

// text is a user-facing sentence in Vietnamese (first) and English.
type text struct{ vi, en string }

// messages holds the message of every error code. "%s" is replaced by the
// field the error is about, where there is one.
var messages = map[string]text{
	"bad_request":             {"Yêu cầu không hợp lệ.", "The request is not valid."},
	"invalid_json":            {"Nội dung gửi lên không phải JSON hợp lệ.", "The body is not valid JSON."},
	"empty_body":              {"Yêu cầu cần có nội dung JSON.", "The request needs a JSON body."},
	"unknown_field":           {"Trường %s không được hỗ trợ.", "The field %s is not accepted."},
	"invalid_field_type":      {"Trường %s có kiểu dữ liệu không đúng.", "The field %s has the wrong type."},
	"invalid_input":           {"Giá trị của trường %s không hợp lệ.", "The value of %s is not valid."},
	"invalid_limit":           {"Tham số limit phải là số từ 1 đến 200.", "limit must be a number from 1 to 200."},
	"invalid_cursor":          {"Tham số cursor không hợp lệ.", "The cursor is not valid."},
	"invalid_idempotency_key": {"Idempotency-Key phải dài 1 đến 128 ký tự ASCII in được.", "Idempotency-Key must be 1 to 128 printable ASCII characters."},
	"idempotency_key_reused":  {"Idempotency-Key này đã được dùng cho một yêu cầu khác.", "This Idempotency-Key was used for a different request."},
	"request_in_progress":     {"Yêu cầu với Idempotency-Key này đang được xử lý, vui lòng thử lại sau.", "A request with this Idempotency-Key is still being processed; retry later."},
	"unsupported_media_type":  {"Chỉ chấp nhận nội dung application/json.", "Only application/json bodies are accepted."},
	"body_too_large":          {"Nội dung gửi lên quá lớn.", "The request body is too large."},
	"headers_too_large":       {"Phần đầu yêu cầu quá lớn.", "The request headers are too large."},
	"unauthenticated":         {"Bạn cần đăng nhập (thiếu mã xác thực Bearer).", "Sign-in required (no Bearer token)."},
	"invalid_token":           {"Mã đăng nhập không hợp lệ hoặc đã hết hạn.", "The sign-in token is invalid or expired."},
	"forbidden":               {"Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."},
	"not_found":               {"Không tìm thấy dữ liệu yêu cầu.", "Not found."},
	"route_not_found":         {"Đường dẫn không tồn tại.", "No such path."},
	"method_not_allowed":      {"Phương thức không được hỗ trợ cho đường dẫn này.", "Method not allowed on this path."},
	"conflict":                {"Dữ liệu đã tồn tại hoặc xung đột với dữ liệu hiện có.", "This conflicts with existing data."},
	"rate_limited":            {"Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút.", "Too many requests; try again in a minute."},
	"store_unavailable":       {"Hệ thống đang tạm gián đoạn, vui lòng thử lại sau.", "A data store is unavailable; try again later."},
	"timeout":                 {"Hệ thống phản hồi quá chậm, vui lòng thử lại sau.", "The service took too long; try again later."},
	"request_timeout":         {"Kết nối quá chậm, yêu cầu bị hủy.", "The connection was too slow; the request was dropped."},
	"internal_error":          {"Đã có lỗi xảy ra phía hệ thống. Chúng tôi đã ghi nhận.", "Something went wrong on our side. It has been logged."},
	"http_error":              {"Yêu cầu không thực hiện được.", "The request could not be completed."},
}
