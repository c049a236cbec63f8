package api

import (
	"strconv"
	"strings"
	"time"

	"daisuso/gamify"
	"daisuso/notify"
)

// formatInt writes n as readers of lang write numbers (notify.FormatInt).
func formatInt(lang string, n int) string { return notify.FormatInt(lang, n) }

// formatDecimal writes x with one decimal as lang writes it: 0,6 in
// Vietnamese, 0.6 in English.
func formatDecimal(lang string, x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	if lang == "en" {
		return s
	}
	return strings.Replace(s, ".", ",", 1)
}

// formatTime writes t in Vietnam's time as lang writes it: 14:05 ngày
// 05/12/2026, or 14:05, 5 Dec 2026.
func formatTime(lang string, t time.Time) string {
	t = t.In(gamify.Vietnam)
	if lang == "en" {
		return t.Format("15:04, 2 Jan 2006")
	}
	return t.Format("15:04 ngày 02/01/2006")
}
