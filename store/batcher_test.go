package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"daisuso/store"
)

// TestBatcherGroupsWhatArrivesMeanwhile: the first call goes alone; the
// calls that come while its batch is sent go together, cut where the next
// would pass Max, and a call heavier than Max still goes, alone.
func TestBatcherGroupsWhatArrivesMeanwhile(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	first := true
	var mu sync.Mutex
	var batches [][]int
	var wg sync.WaitGroup
	b := &store.Batcher[int]{Max: 5, Flushers: 1, Weight: func(w int) int { return w },
		Send: func(_ context.Context, batch []int) {
			if first { // one flusher: Send is never called twice at once
				first = false
				close(started)
				<-release // the first batch is under way while the rest arrive
			}
			mu.Lock()
			batches = append(batches, slices.Clone(batch))
			mu.Unlock()
			for range batch {
				wg.Done()
			}
		}}
	ctx := context.Background()
	calls := []int{1, 2, 2, 3, 9, 1}
	wg.Add(len(calls))
	b.Add(ctx, calls[0])
	<-started
	for _, c := range calls[1:] {
		b.Add(ctx, c)
	}
	close(release)
	wg.Wait()
	want := [][]int{{1}, {2, 2}, {3}, {9}, {1}}
	if !slices.EqualFunc(batches, want, slices.Equal[[]int]) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
}
