package notify

import (
	"strconv"
	"strings"
)

// FormatInt writes n as readers of lang write numbers: 1.234.567 in
// Vietnamese, 1,234,567 in English.
func FormatInt(lang string, n int) string {
	sep := "."
	if lang == "en" {
		sep = ","
	}
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
