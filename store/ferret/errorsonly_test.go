package ferret

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The attributes and groups FerretDB adds reach the records that pass, in
// order, and nothing below Error passes.
func TestErrorsOnlyAppliesAttributesToWhatPasses(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(errorsOnly{base: slog.NewTextHandler(&buf, nil)}).With("conn", 7).WithGroup("cmd").With("name", "find")
	log.Info("quiet")
	log.Warn("quiet too")
	if buf.Len() != 0 {
		t.Fatalf("below Error passed: %q", buf.String())
	}
	log.Error("loud", "n", 1)
	got := buf.String()
	if !strings.Contains(got, "msg=loud conn=7 cmd.name=find cmd.n=1") {
		t.Fatalf("error record: %q", got)
	}
	if !log.Handler().Enabled(context.Background(), slog.LevelError) || log.Handler().Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("Enabled does not follow the level")
	}
}
