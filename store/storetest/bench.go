package storetest

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// CPU is CPU time used so far: this process's (user and system, every
// goroutine: the service, an in-process FerretDB, an in-process load
// generator or FCM stand-in) and a redis-server's, read from its INFO.
type CPU struct{ Process, Redis time.Duration }

// CPUNow reads both; the Redis figure is zero when INFO cannot be read.
func CPUNow(ctx context.Context, rdb redis.UniversalClient) CPU {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := CPU{Process: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return c
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			s, _ := strconv.ParseFloat(v, 64)
			c.Redis += time.Duration(s * float64(time.Second))
		}
	}
	return c
}

// Since is the CPU time used since c.
func (c CPU) Since(ctx context.Context, rdb redis.UniversalClient) CPU {
	now := CPUNow(ctx, rdb)
	return CPU{Process: now.Process - c.Process, Redis: now.Redis - c.Redis}
}

// Cores says how many cores each used over wall time d, e.g.
// "1.62 cores (this process) + 0.31 (redis-server)".
func (c CPU) Cores(d time.Duration) string {
	return fmt.Sprintf("%.2f cores (this process) + %.2f (redis-server)", c.Process.Seconds()/d.Seconds(), c.Redis.Seconds()/d.Seconds())
}

// ProfileCPU starts a CPU profile into the file named by the environment
// variable env, when set, and returns what stops it: a benchmark profiles
// one phase of its run (go test -cpuprofile takes the whole of it).
func ProfileCPU(t testing.TB, env string) (stop func()) {
	name := os.Getenv(env)
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
