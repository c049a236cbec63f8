package store

import (
	"context"
	"sync"
)

// Batcher hands calls that arrive together to Send in batches (natural
// batching): a call that finds Flushers batches under way waits in the
// queue and goes with the next batch, with every call that came
// meanwhile; a lone call goes at once, as a batch of one. A batch weighs
// at most Max (Weight of each call, 1 when Weight is nil), and holds at
// least one call whatever it weighs. Send answers the calls of its batch
// itself; Batcher only queues them.
type Batcher[C any] struct {
	Send     func(ctx context.Context, batch []C)
	Weight   func(C) int
	Max      int
	Flushers int

	mu       sync.Mutex
	queue    []C
	flushers int
}

// Add queues c. The batch it goes in is sent under ctx's values but not
// its end, since it carries other callers' calls: the store client's own
// timeouts bound it.
func (b *Batcher[C]) Add(ctx context.Context, c C) {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.flushers < b.Flushers {
		b.flushers++
		go b.flush(context.WithoutCancel(ctx))
	}
	b.mu.Unlock()
}

// flush sends batches until the queue is empty.
func (b *Batcher[C]) flush(ctx context.Context) {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.flushers--
			b.mu.Unlock()
			return
		}
		n, weight := 0, 0
		for n < len(b.queue) && (n == 0 || weight+b.weight(b.queue[n]) <= b.Max) {
			weight += b.weight(b.queue[n])
			n++
		}
		batch := make([]C, n)
		copy(batch, b.queue)
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()
		b.Send(ctx, batch)
	}
}

func (b *Batcher[C]) weight(c C) int {
	if b.Weight == nil {
		return 1
	}
	return b.Weight(c)
}
