package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
)

// commands counts the MongoDB commands the tests' clients send, by
// command, collection and (for find) the filter's fields, with the time
// each took as the client saw it. Benchmarks reset it before their load
// and print it after, so that a figure shows which store work it is.
var commands = &commandCount{byKey: map[commandKey]*commandTotal{}}

type commandKey struct{ cmd, target string }

type commandTotal struct {
	n   int
	dur time.Duration
}

type commandCount struct {
	started sync.Map // request id -> commandKey
	mu      sync.Mutex
	byKey   map[commandKey]*commandTotal
}

func (c *commandCount) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			target, _ := e.Command.Lookup(e.CommandName).StringValueOK()
			switch e.CommandName {
			case "getMore":
				target, _ = e.Command.Lookup("collection").StringValueOK()
			case "find":
				if f, ok := e.Command.Lookup("filter").DocumentOK(); ok {
					if els, err := f.Elements(); err == nil {
						keys := make([]string, len(els))
						for i, el := range els {
							keys[i] = el.Key()
						}
						target += " {" + strings.Join(keys, ", ") + "}"
					}
				}
			}
			c.started.Store(e.RequestID, commandKey{e.CommandName, target})
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { c.done(e.RequestID, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { c.done(e.RequestID, e.Duration) },
	}
}

func (c *commandCount) done(id int64, d time.Duration) {
	k, ok := c.started.LoadAndDelete(id)
	if !ok {
		return
	}
	c.mu.Lock()
	t := c.byKey[k.(commandKey)]
	if t == nil {
		t = &commandTotal{}
		c.byKey[k.(commandKey)] = t
	}
	t.n++
	t.dur += d
	c.mu.Unlock()
}

// ResetCommands forgets the commands counted so far.
func ResetCommands() {
	commands.mu.Lock()
	commands.byKey = map[commandKey]*commandTotal{}
	commands.mu.Unlock()
}

// CommandTable is a Markdown table of the commands counted since the last
// ResetCommands, per `per` (say, per request), the longest in total first.
// Times are as the clients saw them, waits for the store included.
func CommandTable(per int) string {
	commands.mu.Lock()
	defer commands.mu.Unlock()
	keys := make([]commandKey, 0, len(commands.byKey))
	for k := range commands.byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return commands.byKey[keys[i]].dur > commands.byKey[keys[j]].dur })
	var b strings.Builder
	fmt.Fprintln(&b, "| command | collection {filter} | count | per unit | mean time |")
	fmt.Fprintln(&b, "| --- | --- | --- | --- | --- |")
	for _, k := range keys {
		t := commands.byKey[k]
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f | %v |\n", k.cmd, k.target, t.n, float64(t.n)/float64(max(per, 1)),
			(t.dur / time.Duration(t.n)).Round(10*time.Microsecond))
	}
	return b.String()
}

// Commands is how many of a command on a target (as CommandTable names
// them: "find", "volunteers {_id}") were counted since the last
// ResetCommands.
func Commands(cmd, target string) int {
	commands.mu.Lock()
	defer commands.mu.Unlock()
	if t := commands.byKey[commandKey{cmd, target}]; t != nil {
		return t.n
	}
	return 0
}
