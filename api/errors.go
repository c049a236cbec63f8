package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/matching"
	"daisuso/notify"
	"daisuso/sessions"
	"daisuso/store"
)

// apiError is an error with everything the client is told: status, a stable
// snake_case code, a message in the caller's language and details.
type apiError struct {
	Status  int
	Code    string
	Details map[string]any
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.cause.Error()
	}
	return e.Code
}

func (e *apiError) Unwrap() error { return e.cause }

func newError(status int, code string, details map[string]any) *apiError {
	return &apiError{Status: status, Code: code, Details: details}
}

// errorBody is the JSON of every error response, as API.md fixes it.
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"` // {} when there are none, as API.md has it
}

// domainErrors maps the domain packages' sentinel errors to HTTP errors. It
// is the one table of its kind; the first match wins.
var domainErrors = []struct {
	err    error
	status int
	code   string
}{
	// "store_unavailable" is a store that cannot be reached (refused, reset,
	// no server to select); one that was reached but too busy to answer
	// within the request's deadline (store.WrapMongo leaves those out of
	// ErrUnavailable) is "timeout".
	{store.ErrUnavailable, fiber.StatusServiceUnavailable, "store_unavailable"},
	{context.DeadlineExceeded, fiber.StatusServiceUnavailable, "timeout"},
	{errs.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{matching.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{matching.ErrInvalid, fiber.StatusBadRequest, "invalid_input"},
	{matching.ErrDecided, fiber.StatusConflict, "run_already_decided"},
	{matching.ErrIDReused, fiber.StatusUnprocessableEntity, "idempotency_key_reused"},
	{matching.ErrNotReady, fiber.StatusConflict, "run_not_ready"},
	{sessions.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{sessions.ErrChanged, fiber.StatusConflict, "session_changed"},
	{sessions.ErrTooManyAttempts, fiber.StatusTooManyRequests, "too_many_code_attempts"},
	{gamify.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{gamify.ErrRebuildRunning, fiber.StatusConflict, "rebuild_running"},
	{notify.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{notify.ErrInvalid, fiber.StatusBadRequest, "invalid_input"},
	{notify.ErrBroadcastLimit, fiber.StatusTooManyRequests, "broadcast_limit"},
	{errs.ErrInvalid, fiber.StatusBadRequest, "invalid_input"},
	{errs.ErrForbidden, fiber.StatusForbidden, "forbidden"},
	{errs.ErrConflict, fiber.StatusConflict, "conflict"},
	{store.ErrDuplicate, fiber.StatusConflict, "conflict"},
}

// fiberCodes names the errors Fiber itself raises (unknown route, body too
// large...).
var fiberCodes = map[int]string{
	fiber.StatusBadRequest:                  "bad_request",
	fiber.StatusNotFound:                    "route_not_found",
	fiber.StatusMethodNotAllowed:            "method_not_allowed",
	fiber.StatusRequestEntityTooLarge:       "body_too_large",
	fiber.StatusRequestHeaderFieldsTooLarge: "headers_too_large",
	fiber.StatusUnsupportedMediaType:        "unsupported_media_type",
	fiber.StatusRequestTimeout:              "request_timeout",
}

// toAPIError turns any error a handler returns into what the client sees.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, ok := fiberCodes[fe.Code]
		if !ok {
			code = "http_" + strconv.Itoa(fe.Code)
		}
		if fe.Code >= 500 {
			return &apiError{Status: fiber.StatusInternalServerError, Code: "internal_error", cause: err}
		}
		return &apiError{Status: fe.Code, Code: code, cause: err}
	}
	var field *errs.FieldError
	if errors.As(err, &field) {
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid_input",
			Details: map[string]any{"field": field.Field, "reason": field.Reason}, cause: err}
	}
	var conflict *errs.ConflictError
	if errors.As(err, &conflict) {
		details := map[string]any{"field": conflict.Field}
		if conflict.ID != "" {
			details["id"] = conflict.ID
		}
		return &apiError{Status: fiber.StatusConflict, Code: conflict.Reason, Details: details, cause: err}
	}
	var state *sessions.StateError
	if errors.As(err, &state) {
		return &apiError{Status: fiber.StatusConflict, Code: "invalid_transition",
			Details: map[string]any{"state": state.State, "action": state.Action}, cause: err}
	}
	var locked *sessions.LockedError
	if errors.As(err, &locked) {
		return &apiError{Status: fiber.StatusTooManyRequests, Code: "too_many_code_attempts",
			Details: map[string]any{"retry_after_seconds": max(1, int(locked.RetryAfter.Seconds()))}, cause: err}
	}
	if errors.Is(err, gamify.ErrRebuilding) {
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: "leaderboards_rebuilding",
			Details: map[string]any{"retry_after_seconds": 5}, cause: err}
	}
	var open *matching.OpenRequestError
	if errors.As(err, &open) {
		return &apiError{Status: fiber.StatusConflict, Code: "member_in_open_request",
			Details: map[string]any{"request_id": open.RequestID, "members": open.Members}, cause: err}
	}
	var rule *errs.RuleError
	if errors.As(err, &rule) {
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: rule.Code,
			Details: map[string]any{"field": rule.Field}, cause: err}
	}
	for _, m := range domainErrors {
		if errors.Is(err, m.err) {
			return &apiError{Status: m.status, Code: m.code, cause: err}
		}
	}
	return &apiError{Status: fiber.StatusInternalServerError, Code: "internal_error", cause: err}
}

// handleError is Fiber's error handler: every error response is written here.
// 5xx are logged in full with the request id and never show their text.
func (a *API) handleError(c *fiber.Ctx, err error) error {
	e := toAPIError(err)
	if e.Status >= 500 {
		a.log.Error("request failed", "request_id", requestID(c), "method", c.Method(),
			"route", routeLabel(c), "status", e.Status, "code", e.Code, "err", err)
		var outage *store.OutageError
		if errors.As(err, &outage) {
			a.metrics.storeErrors.WithLabelValues(outage.Store).Inc()
		}
	} else {
		// The cause of a 4xx may quote client input (a path, a value): only
		// the code is logged.
		a.log.Debug("request refused", "request_id", requestID(c), "code", e.Code)
	}
	details := e.Details
	if e.Status >= 500 {
		details = map[string]any{"request_id": requestID(c)}
	}
	if details == nil {
		details = map[string]any{}
	}
	if after, ok := details["retry_after_seconds"].(int); ok && after > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(after))
	}
	return c.Status(e.Status).JSON(errorBody{Error: errorPayload{
		Code: e.Code, Message: message(language(c), e.Code, details), Details: details,
	}})
}

// language picks "en" or "vi" from Accept-Language, in the caller's order
// of preference; Vietnamese when neither is asked for.
func language(c *fiber.Ctx) string {
	for _, part := range strings.Split(c.Get(fiber.HeaderAcceptLanguage), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if primary == "en" || primary == "vi" {
			return primary
		}
	}
	return "vi"
}

// message is an error's message in lang: for a bad field, the reason's
// own sentence when there is one, with the field in words.
func message(lang, code string, details map[string]any) string {
	m, ok := messages[code]
	if !ok {
		m = messages["http_error"]
	}
	if reason, _ := details["reason"].(string); code == "invalid_input" && reason != "" {
		if r, ok := reasonMessages[reason]; ok {
			m = r
		}
	}
	text := m.vi
	if lang == "en" {
		text = m.en
	}
	if field, ok := details["field"].(string); ok && strings.Contains(text, "%s") {
		label := fieldLabel(lang, field)
		if strings.HasPrefix(text, "%s") {
			label = upperFirst(label)
		}
		text = fmt.Sprintf(text, label)
	}
	return text
}

func upperFirst(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}
