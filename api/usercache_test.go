package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"daisuso/errs"
	"daisuso/people"
)

// countingLookup stands in for the users collection: it counts lookups and
// holds each until release is closed, so that requests can meet in one.
type countingLookup struct {
	calls   atomic.Int64
	release chan struct{}
	mu      sync.Mutex
	users   map[string]people.User
}

func (l *countingLookup) lookup(_ context.Context, id string) (people.User, error) {
	l.calls.Add(1)
	l.mu.Lock()
	u, ok := l.users[id] // read now, as a store answers what it held then
	l.mu.Unlock()
	<-l.release
	if !ok {
		return people.User{}, errs.ErrNotFound
	}
	return u, nil
}

func (l *countingLookup) set(u people.User) {
	l.mu.Lock()
	l.users[u.ID] = u
	l.mu.Unlock()
}

func newCountingCache() (*userCache, *countingLookup) {
	l := &countingLookup{release: make(chan struct{}), users: map[string]people.User{}}
	return &userCache{lookup: l.lookup, ttl: 10 * time.Second, now: time.Now, m: map[string]cachedUser{}}, l
}

// getAll runs n gets of id at once and waits until every one of them has
// either joined the lookup in flight or finished, then lets the lookup end.
func getAll(t *testing.T, uc *userCache, l *countingLookup, id string, n int) ([]people.User, []error) {
	t.Helper()
	users, failures := make([]people.User, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { users[i], failures[i] = uc.get(context.Background(), id) })
	}
	for l.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the others reach the flight
	close(l.release)
	wg.Wait()
	l.release = make(chan struct{})
	return users, failures
}

func TestUserCacheSharesOneLookupAmongRequestsThatMiss(t *testing.T) {
	uc, l := newCountingCache()
	l.set(people.User{ID: "u1", Role: people.RoleVolunteer, BranchID: "b1"})
	users, failures := getAll(t, uc, l, "u1", 20)
	for i := range users {
		if failures[i] != nil || users[i].Role != people.RoleVolunteer || users[i].BranchID != "b1" {
			t.Fatalf("get %d: %+v, %v", i, users[i], failures[i])
		}
	}
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("20 requests that missed together made %d lookups, want 1", n)
	}
	close(l.release)
	if u, err := uc.get(context.Background(), "u1"); err != nil || u.BranchID != "b1" || l.calls.Load() != 1 {
		t.Fatalf("cached read: %+v, %v, %d lookups", u, err, l.calls.Load())
	}

	// Someone not registered: every request of the flight hears so.
	l.release = make(chan struct{})
	_, failures = getAll(t, uc, l, "nobody", 5)
	for i, err := range failures {
		if !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("get %d of an unknown user: %v", i, err)
		}
	}
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("%d lookups after the unknown user's five, want 2", n)
	}
}

func TestUserCacheKeepsNoLookupThatAForgetOvertook(t *testing.T) {
	uc, l := newCountingCache()
	l.set(people.User{ID: "u1", Role: people.RoleVolunteer})
	done := make(chan people.User)
	go func() {
		u, _ := uc.get(context.Background(), "u1")
		done <- u
	}()
	for l.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// While the lookup is in flight, this instance makes u1 a branch admin.
	l.set(people.User{ID: "u1", Role: people.RoleBranchAdmin})
	uc.forget("u1")
	close(l.release)
	<-done
	u, err := uc.get(context.Background(), "u1")
	if err != nil || u.Role != people.RoleBranchAdmin {
		t.Fatalf("after forget: %+v, %v; the lookup the forget overtook was kept", u, err)
	}
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("%d lookups, want 2", n)
	}
}
