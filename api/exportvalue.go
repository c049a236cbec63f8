package api

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// exportValue turns what the data holders export (their domain types,
// which carry no JSON names) into what a person downloading their data
// reads: keys in the API's snake_case (RequestID is request_id), times as
// RFC 3339, cells and other named values as their text, and decimals to
// one place (distances of 0.6 km, not 0.6213).
func exportValue(v any) any {
	return exportOf(reflect.ValueOf(v))
}

var timeT = reflect.TypeOf(time.Time{})

func exportOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == timeT {
		return v.Interface()
	}
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() != reflect.Struct && v.Kind() != reflect.Pointer {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return exportOf(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := snake(f.Name)
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
				name = tag
			}
			out[name] = exportOf(v.Field(i))
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = exportOf(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = exportOf(v.MapIndex(k))
		}
		return out
	case reflect.Float32, reflect.Float64:
		return math.Round(v.Float()*10) / 10
	}
	return v.Interface()
}

// snake writes a Go name in snake_case: RequestID is request_id, WhyVI
// why_vi, DistanceKm distance_km.
func snake(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (nextLower && unicode.IsUpper(rs[i-1])) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
