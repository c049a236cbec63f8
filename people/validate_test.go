package people

import (
	"errors"
	"testing"

	"daisuso/errs"
)

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0912345678", "+84912345678"},
		{"+84912345678", "+84912345678"},
		{"84912345678", "+84912345678"},
		{"091 234 5678", "+84912345678"},
		{"091.234.5678", "+84912345678"},
		{"(+84) 86-123-4567", "+84861234567"},
		{"0321234567", "+84321234567"},
		{"0241234567", ""},   // Hà Nội landline, not a mobile
		{"0112345678", ""},   // no such mobile range
		{"091234567", ""},    // too short
		{"09123456789", ""},  // too long
		{"+1 912345678", ""}, // not Vietnam
		{"09123a5678", ""},
		{"", ""},
		{"$gt", ""},
	}
	for _, c := range cases {
		if got := NormalizePhone(c.in); got != c.want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if m := MaskPhone("+84912345678"); m != "091****678" {
		t.Errorf("MaskPhone = %q", m)
	}
}

func TestCleanName(t *testing.T) {
	ok := map[string]string{
		"Nguyễn Thị Lan":        "Nguyễn Thị Lan",
		"  Lò   Văn  Pấng ":     "Lò Văn Pấng",
		"H'Hen Niê":             "H'Hen Niê",
		"Y-Moan Ênuôl":          "Y-Moan Ênuôl",
		"Thạch Thị Sô Phi":      "Thạch Thị Sô Phi",
		"Nguye\u0302\u0303n An": "Nguyễn An", // decomposed marks are composed (NFC)
	}
	for in, want := range ok {
		got, err := CleanName("name", in)
		if err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                        "required",
		"A":                       "length",
		"Nguyễn Văn 3":            "invalid_characters",
		"<script>":                "invalid_characters",
		"$where":                  "invalid_characters",
		string(make([]byte, 100)): "invalid_characters",
	}
	for in, reason := range bad {
		_, err := CleanName("name", in)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Reason != reason {
			t.Errorf("CleanName(%q) err %v, want %s", in, err, reason)
		}
	}
	if FirstName("Nguyễn Thị Lan") != "Lan" {
		t.Error("FirstName")
	}
}

func TestCodes(t *testing.T) {
	if got, err := checkLanguages("languages", []string{"vi", "tyz", "tay", "hmn"}); err != nil || len(got) != 3 || got[1] != "tay" {
		t.Fatalf("languages %v %v", got, err)
	}
	if _, err := checkLanguages("languages", []string{"xx"}); err == nil {
		t.Fatal("unknown language accepted")
	}
	if _, err := checkCodes("topics", []string{"vneid", "flying"}, Topics, 10); err == nil {
		t.Fatal("unknown topic accepted")
	}
	if len(Languages) < 11 {
		t.Fatalf("%d languages: Vietnamese and at least the ten largest minority languages are needed", len(Languages))
	}
}
