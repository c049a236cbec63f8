package store

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

type traceKey struct{ cmd, coll string }
type traceVal struct {
	n   int
	dur time.Duration
}

var (
	traceMu   sync.Mutex
	traceM    = map[traceKey]*traceVal{}
	traceReqs sync.Map
)

func TraceOpts(o *options.ClientOptions) {
	if os.Getenv("DAISUSO_TRACE_MONGO") == "" {
		return
	}
	o.SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
			if e.CommandName == "find" {
				if f, ok := e.Command.Lookup("filter").DocumentOK(); ok {
					els, _ := f.Elements()
					for _, el := range els {
						coll += " " + el.Key()
					}
				}
			}
			if e.CommandName == "getMore" {
				coll, _ = e.Command.Lookup("collection").StringValueOK()
			}
			traceReqs.Store(e.RequestID, traceKey{e.CommandName, coll})
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { traceDone(e.RequestID, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { traceDone(e.RequestID, e.Duration) },
	})
}

func traceDone(id int64, d time.Duration) {
	k, ok := traceReqs.LoadAndDelete(id)
	if !ok {
		return
	}
	traceMu.Lock()
	v := traceM[k.(traceKey)]
	if v == nil {
		v = &traceVal{}
		traceM[k.(traceKey)] = v
	}
	v.n++
	v.dur += d
	traceMu.Unlock()
}

func TraceReport() {
	traceMu.Lock()
	defer traceMu.Unlock()
	var ks []traceKey
	for k := range traceM {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return traceM[ks[i]].dur > traceM[ks[j]].dur })
	for _, k := range ks {
		fmt.Printf("%-12s %-28s n=%6d total=%v\n", k.cmd, k.coll, traceM[k].n, traceM[k].dur)
	}
	traceM = map[traceKey]*traceVal{}
}
