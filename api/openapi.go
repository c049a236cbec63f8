package api

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/people"
)

// buildOpenAPI describes every route of the table as OpenAPI 3.1, with
// request and response schemas read from the Go types by reflection, so the
// description cannot drift from what the handlers decode and encode.
func buildOpenAPI(routes []route) ([]byte, error) {
	paths := map[string]map[string]any{}
	for _, r := range routes {
		p, params := openAPIPath(r.path)
		op := map[string]any{
			"summary":     r.summary,
			"operationId": strings.ToLower(r.method) + strings.NewReplacer("/", "_", ":", "", ".", "_").Replace(r.path),
			"responses":   map[string]any{},
		}
		for _, name := range params {
			op["parameters"] = append(asList(op["parameters"]), map[string]any{
				"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"},
			})
		}
		for _, q := range r.query {
			op["parameters"] = append(asList(op["parameters"]), map[string]any{
				"name": q.name, "in": "query", "description": q.description, "schema": map[string]any{"type": "string"},
			})
		}
		if r.idempotent {
			op["parameters"] = append(asList(op["parameters"]), map[string]any{
				"name": "Idempotency-Key", "in": "header", "description": "Retries with the same key and body replay the first response.",
				"schema": map[string]any{"type": "string", "maxLength": maxIdempotencyKey},
			})
		}
		if r.access.public {
			op["security"] = []any{}
		}
		who := r.access.who()
		op["x-roles"] = who
		op["description"] = "Who may call it: " + strings.Join(who, ", ") + "."
		if r.body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.body))},
			}}
		}
		status := r.status
		if status == 0 {
			status = fiber.StatusOK
		}
		ok := map[string]any{"description": "Success."}
		if r.response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.response))}}
		}
		responses := op["responses"].(map[string]any)
		responses[strconv.Itoa(status)] = ok
		responses["default"] = map[string]any{"$ref": "#/components/responses/Error"}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "daisuso: Đại sứ số network API",
			"version":     "1",
			"description": "Matching volunteer mentors (1 kèm 5) with nearby learners and households, sessions, points, leaderboards and reminders.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearerAuth": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "description": "A Firebase ID token, or a dev token in dev mode."},
			},
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "An error; message follows Accept-Language (vi by default, en).",
					"content":     map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(errorBody{}))}},
				},
			},
		},
	}
	return json.Marshal(doc)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// openAPIPath turns "/v1/x/:id" into "/v1/x/{id}" and names the parameters.
func openAPIPath(p string) (string, []string) {
	var params []string
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			name = strings.TrimSuffix(name, "?")
			params = append(params, name)
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/"), params
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf returns the JSON Schema of a Go type as encoding/json writes it.
func schemaOf(t reflect.Type) map[string]any {
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		required := structProps(t, props, nil)
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

// structProps adds the properties of struct t to props, and returns
// required with the ones that are. An embedded struct without a JSON name
// gives its fields, as encoding/json does; a field named outside it wins.
func structProps(t reflect.Type, props map[string]any, required []string) []string {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			inner := map[string]any{}
			for _, r := range structProps(f.Type, inner, nil) {
				if _, taken := props[r]; !taken {
					required = append(required, r)
				}
			}
			for k, v := range inner {
				if _, taken := props[k]; !taken {
					props[k] = v
				}
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = fieldSchema(f)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	return required
}

// namedEnums are the code lists a tag names with "@": the one list of each
// in the service (people's), so the description cannot drift from it.
var namedEnums = map[string][]string{
	"@topics": codesOf(people.Topics), "@languages": codesOf(people.Languages), "@accessibility": codesOf(people.Accessibility),
	"@consents": codesOf(people.Purposes), "@outcomes": codesOf(people.Outcomes), "@team_targets": codesOf(people.TeamTargetKinds),
}

func codesOf(list []people.Code) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Code
	}
	return out
}

// fieldSchema is a field's schema with what its tags add: enum:"a,b" (on
// a list, of its items), minimum:"n", maximum:"n" (likewise) and doc:"...",
// the description.
func fieldSchema(f reflect.StructField) map[string]any {
	s := schemaOf(f.Type)
	target := s
	if items, ok := s["items"].(map[string]any); ok {
		target = items
	}
	if e := f.Tag.Get("enum"); e != "" {
		if list, ok := namedEnums[e]; ok {
			target["enum"] = list
		} else {
			target["enum"] = strings.Split(e, ",")
		}
	}
	for _, k := range []string{"minimum", "maximum"} {
		if v := f.Tag.Get(k); v != "" {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				target[k] = n
			}
		}
	}
	if d := f.Tag.Get("doc"); d != "" {
		s["description"] = d
	}
	return s
}

func (a *API) openAPIHandler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(a.openAPI)
}
