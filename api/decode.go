package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// Page-size limits of every list, as API.md fixes them.
const (
	defaultLimit   = 20
	maxLimit       = 200
	maxCursorBytes = 512
)

// validator is implemented by request bodies that check their own fields.
type validator interface{ validate() error }

// decodeJSON reads the request body into dst strictly: JSON only, valid
// UTF-8, no unknown fields, no wrong types, nothing after the value. A body
// that fails gets a 400 naming the field, never a 500.
func decodeJSON(c *fiber.Ctx, dst any) error {
	if ct := strings.ToLower(c.Get(fiber.HeaderContentType)); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return newError(fiber.StatusUnsupportedMediaType, "unsupported_media_type", nil)
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(fiber.StatusBadRequest, "empty_body", nil)
	}
	if !utf8.Valid(body) {
		return newError(fiber.StatusBadRequest, "invalid_json", map[string]any{"reason": "invalid_utf8"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(fiber.StatusBadRequest, "invalid_json", map[string]any{"reason": "trailing_data"})
	}
	if v, ok := dst.(validator); ok {
		return v.validate()
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid_json",
			Details: map[string]any{"offset": syntax.Offset}, cause: err}
	case errors.As(err, &typ):
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid_field_type",
			Details: map[string]any{"field": typ.Field, "expected": jsonKind(typ.Type.Kind().String())}, cause: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(field) > 64 {
			field = field[:64]
		}
		return &apiError{Status: fiber.StatusBadRequest, Code: "unknown_field",
			Details: map[string]any{"field": field}, cause: err}
	}
	return &apiError{Status: fiber.StatusBadRequest, Code: "invalid_json", cause: err}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// page is a list request's page: its size and where it starts.
type page struct {
	Limit  int
	Cursor []byte // decoded; nil for the first page
}

// pageParams reads ?limit= and ?cursor=. Cursors are opaque to clients:
// base64url of a position only the list's handler understands.
// pageOf is the page p asks of a list held whole in memory, whose cursor is
// the id of the last item of the previous page, and the cursor of the next
// page ("" after the last).
func pageOf[T any](all []T, p page, id func(T) string) ([]T, string) {
	start := 0
	if after := string(p.Cursor); after != "" {
		start = len(all)
		for i, x := range all {
			if id(x) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(len(all), start+p.Limit)
	next := ""
	if end < len(all) && end > start {
		next = encodeCursor([]byte(id(all[end-1])))
	}
	return all[start:end], next
}

func pageParams(c *fiber.Ctx) (page, error) {
	p := page{Limit: defaultLimit}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return page{}, newError(fiber.StatusBadRequest, "invalid_limit", map[string]any{"max": maxLimit})
		}
		p.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		if len(s) > maxCursorBytes {
			return page{}, newError(fiber.StatusBadRequest, "invalid_cursor", nil)
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return page{}, newError(fiber.StatusBadRequest, "invalid_cursor", nil)
		}
		p.Cursor = b
	}
	return p, nil
}

// encodeCursor makes the opaque next_cursor of a list response.
func encodeCursor(pos []byte) string {
	if len(pos) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(pos)
}

// checkPageParams refuses a bad ?limit= or ?cursor= on any route, so that no
// handler ever sees one.
func checkPageParams(c *fiber.Ctx) error {
	if _, err := pageParams(c); err != nil {
		return err
	}
	return c.Next()
}
