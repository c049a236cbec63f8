package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"daisuso/store/storetest"
)

// TestREADMEFirstSession runs the README's first session, as a newcomer
// would paste it, against the embedded default: twice, with the service
// restarted on the same data folder in between. Each run must reach the
// core loop's end (the session confirmed, points on the all-time board)
// without an error but those the README says a run again meets.
func TestREADMEFirstSession(t *testing.T) {
	storetest.Long(t)
	for _, tool := range []string{"bash", "curl", "sed", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "## A first session with curl")
	if i < 0 {
		t.Fatal("the README has no first session")
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text[i:])
	if block == nil {
		t.Fatal("the first session has no sh block")
	}
	script := filepath.Join(t.TempDir(), "first.sh")
	if err := os.WriteFile(script, []byte(block[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn", "RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0",
		"REQUEST_TIMEOUT": "30s", "STORE_TIMEOUT": "5s"}
	for run, wantPoints := range []string{`"points":15`, `"points":30`} {
		c := startChild(t, env)
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "B="+c.base)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run+1, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var errs []string
		for _, l := range lines {
			if strings.HasPrefix(l, `{"error"`) && !strings.Contains(l, `"outside_vietnam"`) &&
				!(run > 0 && strings.Contains(l, `"already_registered"`)) {
				errs = append(errs, l)
			}
		}
		if len(errs) > 0 {
			t.Errorf("run %d met errors:\n%s", run+1, strings.Join(errs, "\n"))
		}
		o := string(out)
		if !strings.Contains(o, `"state":"matched"`) || !strings.Contains(o, `"state":"confirmed"`) ||
			!strings.Contains(o, `"id":"lo-thi-mai","name":"Mai",`+wantPoints) || !strings.Contains(o, `"code":"outside_vietnam"`) {
			t.Errorf("run %d did not reach the end of the loop:\n%s", run+1, o)
		}
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// TestREADMELayoutNamesEveryPackage: the README's layout table names each
// folder of Go code, as a row of its own or inside its parent's row, and
// no folder that is gone.
func TestREADMELayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## Layout")
	if start < 0 {
		t.Fatal("the README has no Layout section")
	}
	table := text[start:]
	if end := strings.Index(table[1:], "\n## "); end > 0 {
		table = table[:end+1]
	}
	root := filepath.Join("..", "..")
	dirs := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			dirs[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %v", dirs)
	}
	for dir := range dirs {
		if !strings.Contains(table, "`"+dir+"`") && !strings.Contains(table, "`"+dir+"/`") {
			t.Errorf("the README's layout table does not name %s", dir)
		}
	}
	for _, m := range regexp.MustCompile("`([a-z]+(?:/[a-z]+)*)/?`").FindAllStringSubmatch(table, -1) {
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil && strings.Contains(m[1], "/") {
			t.Errorf("the layout table names %s, which is not there", m[1])
		}
	}
}
