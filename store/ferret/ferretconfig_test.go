package ferret

import (
	"strings"
	"testing"
)

func TestSQLiteURL(t *testing.T) {
	for _, c := range []struct {
		full bool
		want string
	}{{false, "_pragma=synchronous(NORMAL)"}, {true, "_pragma=synchronous(FULL)"}} {
		got := sqliteURL("/data/ferretdb", c.full)
		if !strings.HasPrefix(got, "file:/data/ferretdb/?") || !strings.Contains(got, "_txlock=immediate") || !strings.Contains(got, c.want) {
			t.Errorf("sqliteURL(full=%v) = %q, want the folder, _txlock=immediate and %s", c.full, got, c.want)
		}
	}
}

func TestWithPoolLimit(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://127.0.0.1:27017/":           "mongodb://127.0.0.1:27017/?maxPoolSize=4",
		"mongodb://127.0.0.1:27017/?appName=x": "mongodb://127.0.0.1:27017/?appName=x&maxPoolSize=4",
	} {
		if got := withPoolLimit(uri, 4); got != want {
			t.Errorf("withPoolLimit(%q) = %q, want %q", uri, got, want)
		}
	}
}
