package notify

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"daisuso/store"
)

// Run sends due notifications until ctx ends, Workers batches at a time.
// A batch under way when ctx ends is finished and recorded (within
// SendTimeout), so that a graceful stop sends nothing twice; a process
// killed mid-batch leaves its claims to expire and be taken again, and the
// message id lets the phone drop what arrives twice.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n, err := s.SendDue(ctx)
				if err != nil && ctx.Err() == nil {
					s.log.Warn("notification worker", "err", err)
				}
				if n == 0 || err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(s.cfg.Poll):
					}
				}
			}
		})
	}
	wg.Wait()
}

// SendDue claims one batch of due notifications and deals with each; it
// returns how many it claimed.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	start := time.Now()
	ready, err := s.q.ready(ctx)
	if err != nil || !ready {
		return 0, err // maintenance loads the queue from MongoDB first
	}
	now := s.now()
	until := now.Add(s.cfg.Lease)
	cl, err := s.q.claim(ctx, now, s.cfg.Batch, until)
	s.stats.storeNanos.Add(int64(time.Since(start)))
	if err != nil || len(cl) == 0 {
		return 0, err
	}
	s.stats.claimed.Add(int64(len(cl)))
	// From here the batch is ours: finish it even if ctx ends.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendTimeout+10*time.Second)
	defer cancel()
	defer s.keepLease(work, cl, until)()
	return len(cl), s.process(work, cl)
}

// keepLease renews the claims of a batch every third of the lease while
// the batch is dealt with, and returns the function that stops it. A send
// slower than the lease (a slow FCM, a loaded machine) is then not taken
// and sent again by another worker; a worker that dies stops renewing,
// and its claims run out as before.
func (s *Service) keepLease(ctx context.Context, cl []claimed, until time.Time) (stop func()) {
	ids := make([]string, len(cl))
	for i, c := range cl {
		ids[i] = c.id
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Every(ctx, s.cfg.Lease/3, false, func(ctx context.Context) {
			next := s.now().Add(s.cfg.Lease)
			if _, err := s.q.renew(ctx, ids, until, next); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("notification lease not renewed", "err", err)
				}
				return
			}
			until = next
		})
	}()
	return func() { cancel(); <-done }
}

// job is one claimed notification on its way.
type job struct {
	id      string
	n       Notification
	claims  int
	devices []device
	// what became of it: an outcome to record, or a time to try again
	state   State
	detail  string
	retryAt time.Time
	// per-device results of this attempt
	ok, dropped, bug int
	transient        bool
	quota            time.Duration
}

func (s *Service) process(ctx context.Context, cl []claimed) error {
	now := s.now()
	jobs, err := s.load(ctx, cl)
	if err != nil {
		return err
	}
	var live []*job
	for _, j := range jobs {
		switch {
		case j.state != "":
		case !now.Before(j.n.ExpiresAt):
			j.state = StateExpired
		default:
			if check := s.still[j.n.Kind]; check != nil {
				ok, err := check(ctx, j.n)
				if err != nil {
					return err
				}
				if !ok {
					j.state = StateSkipped
					continue
				}
			}
			live = append(live, j)
		}
	}
	if err := s.route(ctx, live, now); err != nil {
		return err
	}
	var sendable []*job
	for _, j := range live {
		if j.state == "" {
			sendable = append(sendable, j)
		}
	}
	s.deliver(ctx, sendable, now)
	// Recording gets its own time: a send that used up the batch's must
	// not leave what it sent unrecorded (and so sent again).
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.settle(rec, jobs, now)
}

// reclaimCheck bounds the lookup of the outcomes of reclaimed
// notifications in a batch.
const reclaimCheck = 3 * time.Second

// load turns claims into jobs: envelopes missing from Redis are read from
// MongoDB, and a notification claimed before whose outcome is already
// recorded (its worker died after recording, before clearing Redis) is
// not sent again.
func (s *Service) load(ctx context.Context, cl []claimed) ([]*job, error) {
	start := time.Now()
	defer func() { s.stats.storeNanos.Add(int64(time.Since(start))) }()
	var missing, again []string
	for _, c := range cl {
		if c.doc == nil {
			missing = append(missing, c.id)
		}
		if c.claims > 1 {
			again = append(again, c.id)
		}
	}
	docs := map[string]notifDoc{}
	if len(missing) > 0 {
		found, err := store.FindByIDs(ctx, s.st.notifications, missing, func(d notifDoc) string { return d.ID })
		if err != nil {
			return nil, err
		}
		docs = found
	}
	// The lookups get a budget of their own, not the batch's: when they
	// took it all, every later step of the batch failed for want of time,
	// the claims lapsed and the batch was taken again, for ever (a store
	// whose lookups are slow, as the embedded one's are, held
	// BenchmarkReminders so).
	check, cancel := context.WithTimeout(ctx, reclaimCheck)
	recorded, err := s.st.outcomesOf(check, again)
	cancel()
	if err != nil {
		// Sending again beats never sending: the message id lets the phone
		// drop a repeat.
		s.log.Warn("outcomes of reclaimed notifications unknown; sending them again", "count", len(again), "err", err)
		recorded = map[string]outcomeDoc{}
	}
	var gone []string
	jobs := make([]*job, 0, len(cl))
	for _, c := range cl {
		d, ok := docs[c.id]
		if c.doc != nil {
			d, ok = *c.doc, true
		}
		if _, done := recorded[c.id]; done || !ok {
			s.stats.resendsAvoided.Add(1)
			gone = append(gone, c.id)
			continue
		}
		jobs = append(jobs, &job{id: c.id, n: d.notification(), claims: c.claims})
	}
	return jobs, s.q.done(ctx, gone)
}

// route finds each user's devices; redirects notifications of users who
// have none to their fallback users; and holds back what is over the
// daily cap for the digest.
func (s *Service) route(ctx context.Context, live []*job, now time.Time) error {
	start := time.Now()
	defer func() { s.stats.storeNanos.Add(int64(time.Since(start))) }()
	var users []string
	for _, j := range live {
		users = append(users, j.n.UserID)
	}
	slices.Sort(users)
	devices, err := s.q.devicesOf(ctx, slices.Compact(users))
	if err != nil {
		return err
	}
	var capped []*job
	var capUsers []string
	for _, j := range live {
		j.devices = devices[j.n.UserID]
		if len(j.devices) == 0 {
			if err := s.redirect(ctx, j, now); err != nil {
				return err
			}
			continue
		}
		// Each notification counts against the cap once, at its first
		// claim; a retry of one let through is not held back.
		if !kinds[j.n.Kind].urgent && j.claims == 1 {
			capped = append(capped, j)
			capUsers = append(capUsers, j.n.UserID)
		}
	}
	if len(capped) == 0 {
		return nil
	}
	counts, err := s.q.count(ctx, capUsers, localDay(now))
	if err != nil {
		return err
	}
	var digests []Notification
	for i, j := range capped {
		if counts[i] <= int64(s.cfg.DailyCap) {
			continue
		}
		j.state = StateDigested
		digests = append(digests, s.digestFor(j.n.UserID, now))
	}
	return s.Enqueue(ctx, digests...)
}

// digestFor is the one digest a user gets for a day's held-back
// notifications: at 20:00, or in the morning when held back after that.
func (s *Service) digestFor(userID string, now time.Time) Notification {
	l := now.In(Vietnam)
	due := time.Date(l.Year(), l.Month(), l.Day(), QuietFrom-1, 0, 0, 0, Vietnam)
	if !now.Before(due) {
		due = nextMorning(now)
	}
	return Notification{Key: "digest:" + userID + ":" + localDay(due), UserID: userID, Kind: KindDigest, DueAt: due}
}

// redirect sends a notification for someone without a phone token to the
// users who remind them in person, or leaves it in their list.
func (s *Service) redirect(ctx context.Context, j *job, now time.Time) error {
	if len(j.n.Fallback) == 0 {
		j.state = StateNoDevice
		return nil
	}
	copies := make([]Notification, len(j.n.Fallback))
	for i, fb := range j.n.Fallback {
		c := j.n
		c.Key, c.UserID, c.Fallback, c.OnBehalfOf = j.id+">"+fb, fb, nil, j.n.RecipientName
		c.DueAt, c.CreatedAt = now, time.Time{}
		copies[i] = c
	}
	if err := s.Enqueue(ctx, copies...); err != nil {
		return err
	}
	j.state = StateRedirected
	return nil
}

// deliver sends one message per device of each job, in batches of at
// most MaxBatch, and notes each device's result on its job.
func (s *Service) deliver(ctx context.Context, jobs []*job, now time.Time) {
	type slot struct {
		j   *job
		dev device
	}
	var msgs []Message
	var slots []slot
	for _, j := range jobs {
		for _, d := range j.devices {
			title, body := Render(j.n, d.locale)
			msgs = append(msgs, Message{Token: d.token, Platform: d.platform, Title: title, Body: body,
				Data:        map[string]string{"id": j.id, "kind": string(j.n.Kind), "ref": j.n.Ref},
				CollapseKey: collapseKey(j.n), TTL: j.n.ExpiresAt.Sub(now), Expires: j.n.ExpiresAt,
				Urgent: kinds[j.n.Kind].urgent})
			slots = append(slots, slot{j, d})
		}
	}
	for start := 0; start < len(msgs); start += MaxBatch {
		end := min(start+MaxBatch, len(msgs))
		results := s.sendBatch(ctx, msgs[start:end])
		for i, r := range results {
			sl := slots[start+i]
			v, wait := classify(r.Err)
			switch v {
			case sentOK:
				sl.j.ok++
			case dropToken:
				sl.j.dropped++
				s.stats.tokensDropped.Add(1)
				if err := s.deleteDevice(ctx, sl.j.n.UserID, sl.dev.token); err != nil {
					s.log.Warn("drop token", "err", err)
				}
			case quotaWait:
				sl.j.quota = max(sl.j.quota, wait)
			case retryLater:
				sl.j.transient = true
			case ourBug:
				sl.j.bug++
				s.log.Error("FCM refused a message we built: a bug", "kind", sl.j.n.Kind, "id", sl.j.id, "err", r.Err)
			}
		}
	}
	s.stats.messages.Add(int64(len(msgs)))
}

// sendBatch sends one batch; if the sender refuses the batch as a whole
// (it checks every message first), each message is sent alone so that one
// bad message does not hold back the others.
func (s *Service) sendBatch(ctx context.Context, msgs []Message) []Result {
	start := time.Now()
	defer func() { s.stats.sendNanos.Add(int64(time.Since(start))) }()
	send := func(m []Message) ([]Result, error) {
		c, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
		defer cancel()
		return s.send.Send(c, m)
	}
	res, err := send(msgs)
	if err == nil && len(res) == len(msgs) {
		return res
	}
	out := make([]Result, len(msgs))
	for i := range msgs {
		one, err := send(msgs[i : i+1])
		switch {
		case err == nil && len(one) == 1:
			out[i] = one[0]
		case ctx.Err() != nil:
			out[i] = Result{Err: ctx.Err()}
		default:
			out[i] = Result{Err: errInvalidPayload{err}}
		}
	}
	return out
}

// errInvalidPayload is a message the sender would not send at all.
type errInvalidPayload struct{ err error }

func (e errInvalidPayload) Error() string { return "invalid message: " + e.err.Error() }

// settle decides each job's fate from its devices' results, records the
// outcomes in MongoDB, then clears them from the queue and reschedules
// the rest.
func (s *Service) settle(ctx context.Context, jobs []*job, now time.Time) error {
	retry := map[string]time.Time{}
	var outs []outcomeDoc
	var done []string
	for _, j := range jobs {
		if j.state == "" {
			s.judge(ctx, j, now)
		}
		if j.state == "" {
			retry[j.id] = s.deliverAt(j.retryAt, j.n.StartsAt)
			s.stats.retried.Add(1)
			continue
		}
		s.stats.tally(j.state)
		detail := j.detail
		outs = append(outs, outcomeDoc{ID: j.id, State: string(j.state), At: now.UTC().Truncate(time.Millisecond),
			Devices: j.ok, Detail: detail})
		done = append(done, j.id)
	}
	start := time.Now()
	defer func() { s.stats.storeNanos.Add(int64(time.Since(start))) }()
	if err := s.st.record(ctx, outs); err != nil {
		return err // the claims expire and the batch is taken again; the message ids let phones drop repeats
	}
	if err := s.q.done(ctx, done); err != nil {
		return err
	}
	return s.q.retry(ctx, retry)
}

// judge sets a sent job's state, or its next attempt's time.
func (s *Service) judge(ctx context.Context, j *job, now time.Time) {
	switch {
	case j.ok > 0:
		j.state = StateSent
		return
	case j.quota == 0 && !j.transient && j.bug == 0 && j.dropped > 0:
		// every token was dead: as if the user had none
		if err := s.redirect(ctx, j, now); err != nil {
			j.retryAt = now.Add(s.cfg.RetryBase)
		}
		return
	case j.quota == 0 && !j.transient:
		j.state, j.detail = StateFailed, "payload refused"
		return
	case j.claims >= MaxAttempts:
		j.state, j.detail = StateFailed, "retries exhausted"
		return
	}
	if j.quota > 0 {
		j.retryAt = now.Add(j.quota)
	} else {
		d := s.cfg.RetryBase << min(j.claims-1, 20)
		d = min(d, time.Hour)
		j.retryAt = now.Add(d/2 + rand.N(d)) // ±50% jitter, so retries do not arrive together
	}
	if !j.retryAt.Before(j.n.ExpiresAt) {
		j.state = StateExpired
	}
}
