package api

import (
	"testing"
	"time"
)

func TestVietnameseNumberAndDateForms(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatInt("vi", 0), "0"},
		{formatInt("vi", 999), "999"},
		{formatInt("vi", 1000), "1.000"},
		{formatInt("vi", 1234567), "1.234.567"},
		{formatInt("en", 1234567), "1,234,567"},
		{formatInt("vi", -12345), "-12.345"},
		{formatDecimal("vi", 0.6), "0,6"},
		{formatDecimal("en", 0.6), "0.6"},
		{formatTime("vi", time.Date(2026, 12, 5, 7, 5, 0, 0, time.UTC)), "14:05 ngày 05/12/2026"},
		{formatTime("en", time.Date(2026, 12, 5, 7, 5, 0, 0, time.UTC)), "14:05, 5 Dec 2026"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
