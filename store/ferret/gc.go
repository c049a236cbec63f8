package ferret

import (
	"runtime/debug"
	"strconv"
)

// GCPercent is the garbage collector's target (GOGC) the service runs with
// when the environment sets none, instead of Go's 100: the embedded
// FerretDB allocates afresh for every document it reads or writes while
// what stays live is small, so at 100 the collector runs all the time. At
// 400 the heap may grow to five times what is live between collections.
// The figures are in docs/PERFORMANCE.md ("GOGC").
const GCPercent = 400

// TuneGC sets GCPercent unless GOGC is set (the runtime has read that
// already), and returns the target in force.
func TuneGC(getenv func(string) string) string {
	if v := getenv("GOGC"); v != "" {
		return v
	}
	debug.SetGCPercent(GCPercent)
	return strconv.Itoa(GCPercent)
}
