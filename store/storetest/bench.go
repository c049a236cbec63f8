package storetest

import (
	"fmt"
	"os"
)

// EnvInt reads a benchmark size from the environment, def when unset.
func EnvInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		_, _ = fmt.Sscan(v, &def)
	}
	return def
}

// WriteResult prints a benchmark's report and keeps it as
// bench/results/<name> (benchmarks run in their package's folder, one
// below the repository's root).
func WriteResult(name, text string) {
	fmt.Print("\n" + text)
	_ = os.MkdirAll("../bench/results", 0o755)
	_ = os.WriteFile("../bench/results/"+name, []byte(text), 0o644)
}
