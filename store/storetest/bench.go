package storetest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// CPUNow reads both; the Redis figure is zero when INFO cannot be read,
// and on a cluster the sum of its masters'.
func CPUNow(ctx context.Context, rdb redis.UniversalClient) CPU {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := CPU{Process: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	for _, info := range infoOfEach(ctx, rdb, "cpu") {
		for line := range strings.SplitSeq(info, "\r\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
				s, _ := strconv.ParseFloat(v, 64)
				c.Redis += time.Duration(s * float64(time.Second))
			}
		}
	}
	return c
}

// infoOfEach is a section of INFO from the server, or from each master of
// a cluster; a server that cannot be read is left out.
func infoOfEach(ctx context.Context, rdb redis.UniversalClient, section string) []string {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		info, err := rdb.Info(ctx, section).Result()
		if err != nil {
			return nil
		}
		return []string{info}
	}
	var mu sync.Mutex
	var out []string
	_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, section).Result()
		if err == nil {
			mu.Lock()
			out = append(out, info)
			mu.Unlock()
		}
		return nil
	})
	return out
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

// RedisCommands is what a redis-server's commands have cost so far, from INFO
// commandstats: per command, calls and microseconds of execution.
type RedisCommands map[string]struct{ Calls, Usec int64 }

// RedisCommandsNow reads them (on a cluster, summed over its masters);
// empty when INFO cannot be read.
func RedisCommandsNow(ctx context.Context, rdb redis.UniversalClient) RedisCommands {
	out := RedisCommands{}
	for _, info := range infoOfEach(ctx, rdb, "commandstats") {
		for line := range strings.SplitSeq(info, "\r\n") {
			name, fields, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
			if !ok || name == line {
				continue
			}
			st := out[name]
			for f := range strings.SplitSeq(fields, ",") {
				k, v, _ := strings.Cut(f, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch k {
				case "calls":
					st.Calls += n
				case "usec":
					st.Usec += n
				}
			}
			out[name] = st
		}
	}
	return out
}

// Since says which commands took most of redis-server's time since c,
// the top n, e.g. "zincrby 2160000 calls at 2.07 µs".
func (c RedisCommands) Since(ctx context.Context, rdb redis.UniversalClient, n int) string {
	now := RedisCommandsNow(ctx, rdb)
	type spent struct {
		name        string
		calls, usec int64
	}
	var all []spent
	for name, st := range now {
		if d := (spent{name, st.Calls - c[name].Calls, st.Usec - c[name].Usec}); d.calls > 0 {
			all = append(all, d)
		}
	}
	slices.SortFunc(all, func(a, b spent) int { return cmp.Compare(b.usec, a.usec) })
	var parts []string
	for _, d := range all[:min(n, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %d calls at %.2f µs", d.name, d.calls, float64(d.usec)/float64(d.calls)))
	}
	return strings.Join(parts, ", ")
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
