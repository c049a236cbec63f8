package people

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"daisuso/errs"

	"golang.org/x/text/unicode/norm"
)

// mobilePrefixes are the first two digits after the leading 0 of
// Vietnamese mobile numbers (Viettel 32-39, 86, 96-98; Vinaphone 81-85, 88,
// 91, 94; MobiFone 70, 76-79, 89, 90, 93; Vietnamobile 52, 56, 58, 92;
// Gmobile 59, 99; Reddi 55; iTel 87).
var mobilePrefixes = map[string]bool{
	"32": true, "33": true, "34": true, "35": true, "36": true, "37": true, "38": true, "39": true,
	"52": true, "55": true, "56": true, "58": true, "59": true,
	"70": true, "76": true, "77": true, "78": true, "79": true,
	"81": true, "82": true, "83": true, "84": true, "85": true, "86": true, "87": true, "88": true, "89": true,
	"90": true, "91": true, "92": true, "93": true, "94": true, "96": true, "97": true, "98": true, "99": true,
}

// NormalizePhone turns a Vietnamese mobile number written as 0912345678,
// +84912345678, 84912345678 or with spaces, dots and dashes into
// +84912345678. It returns "" for anything else.
func NormalizePhone(s string) string {
	if len(s) > 32 {
		return ""
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "84") && len(d) == 11:
		d = d[2:]
	case strings.HasPrefix(d, "0") && len(d) == 10:
		d = d[1:]
	default:
		return ""
	}
	if !mobilePrefixes[d[:2]] {
		return ""
	}
	return "+84" + d
}

// MaskPhone shows the first and last three digits of a national number:
// +84912345678 becomes 091****678.
func MaskPhone(p string) string {
	if !strings.HasPrefix(p, "+84") || len(p) != 12 {
		return ""
	}
	national := "0" + p[3:]
	return national[:3] + "****" + national[7:]
}

// CleanName checks a person's or a place's name: Vietnamese (or any)
// letters with their marks, spaces, and the apostrophe, hyphen and dot of
// names such as H'Mông or Y-Moan; 2 to 80 characters. It returns the name
// in NFC with spaces collapsed, or a *errs.FieldError.
func CleanName(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &errs.FieldError{Field: field, Reason: "invalid_characters"}
	}
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) && r != ' ' && r != '\'' && r != '’' && r != '-' && r != '.' {
			return "", &errs.FieldError{Field: field, Reason: "invalid_characters"}
		}
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return "", &errs.FieldError{Field: field, Reason: "required"}
	}
	if n < 2 || n > 80 {
		return "", &errs.FieldError{Field: field, Reason: "length"}
	}
	return s, nil
}

// CleanText checks a free label such as a branch name: printable, 2 to 120
// characters, digits allowed ("Chi đoàn thôn 3").
func CleanText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", &errs.FieldError{Field: field, Reason: "invalid_characters"}
	}
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	for _, r := range s {
		if !unicode.IsPrint(r) || strings.ContainsRune("<>{}$\\", r) {
			return "", &errs.FieldError{Field: field, Reason: "invalid_characters"}
		}
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", &errs.FieldError{Field: field, Reason: "required"}
	case n < 2 || n > max:
		return "", &errs.FieldError{Field: field, Reason: "length"}
	}
	return s, nil
}

// FirstName is the given name of a Vietnamese full name: its last word
// ("Nguyễn Thị Lan" -> "Lan"), all that others are shown of a person.
func FirstName(full string) string {
	f := strings.Fields(full)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
