package guard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeCounters is a SharedCounters whose Charge calls a function and
// records its arguments.
type fakeCounters struct {
	charge func(call int, counters []Counter) (ChargeResult, error)

	mu    sync.Mutex
	times []time.Time
	calls [][]Counter
}

func (f *fakeCounters) Charge(ctx context.Context, now time.Time, counters []Counter) (ChargeResult, error) {
	f.mu.Lock()
	call := len(f.calls)
	f.times = append(f.times, now)
	f.calls = append(f.calls, append([]Counter(nil), counters...))
	f.mu.Unlock()
	return f.charge(call, counters)
}

func (f *fakeCounters) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func allowAll(int, []Counter) (ChargeResult, error) { return ChargeResult{Charged: true}, nil }

var errStoreDown = errors.New("redisstore: redis unreachable")

func failAll(int, []Counter) (ChargeResult, error) { return ChargeResult{}, errStoreDown }

func TestLimiterSharedCounters(t *testing.T) {
	clock := newFakeClock()
	store := &fakeCounters{charge: allowAll}
	looker := NewLimiter(LimitConfig{
		PerUser:   Rate{N: 30, Per: time.Minute},
		PerMinute: 300,
		PerDay:    1000,
		Shared:    store,
		Now:       clock.Now,
	}).Wrap(&countingLooker{})

	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
		t.Fatalf("lookup limited: %v", e)
	}
	if e := lookupAs(t, looker, "", "203.0.113.2"); e != nil {
		t.Fatalf("lookup without a user limited: %v", e)
	}
	if n := store.callCount(); n != 2 {
		t.Fatalf("Charge calls = %d, want 2", n)
	}

	minute := Counter{Key: "minute", Limit: 300, Per: time.Minute}
	day := Counter{Key: "day:2025-03-01", Limit: 1000, End: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)}
	wants := [][]Counter{
		{{Key: "user:U0ALICE", Limit: 30, Per: time.Minute}, minute, day},
		{minute, day},
	}
	for i, want := range wants {
		got := store.calls[i]
		if len(got) != len(want) {
			t.Errorf("call %d: counters = %+v, want %+v", i+1, got, want)
			continue
		}
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("call %d: counter %d = %+v, want %+v", i+1, j, got[j], want[j])
			}
		}
		if !store.times[i].Equal(clock.Now()) {
			t.Errorf("call %d: now = %s, want the Limiter's clock %s", i+1, store.times[i], clock.Now())
		}
	}
}

func TestLimiterSharedDenied(t *testing.T) {
	tests := []struct {
		counter int
		scope   string
		limit   string
	}{
		{0, "user", "30 per minute"},
		{1, "minute", "300 per minute"},
		{2, "day", "1000 per day (UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			store := &fakeCounters{charge: func(int, []Counter) (ChargeResult, error) {
				return ChargeResult{Counter: tt.counter, RetryAfter: 1500 * time.Millisecond}, nil
			}}
			next := &countingLooker{}
			looker := NewLimiter(LimitConfig{
				PerUser:   Rate{N: 30, Per: time.Minute},
				PerMinute: 300,
				PerDay:    1000,
				Shared:    store,
			}).Wrap(next)

			e := lookupAs(t, looker, "U0ALICE", "203.0.113.1")
			if e == nil {
				t.Fatal("lookup the store rejected succeeded")
			}
			if e.Scope != tt.scope {
				t.Errorf("scope = %q, want %q", e.Scope, tt.scope)
			}
			if e.Limit != tt.limit {
				t.Errorf("limit = %q, want %q", e.Limit, tt.limit)
			}
			if e.RetryAfter != 1500*time.Millisecond {
				t.Errorf("retry after = %s, want the store's 1.5s", e.RetryAfter)
			}
			if n := next.calls.Load(); n != 0 {
				t.Errorf("IPQS calls = %d, want 0", n)
			}
		})
	}
}

func TestLimiterSharedDecides(t *testing.T) {
	clock := newFakeClock()
	next := &countingLooker{}
	looker := NewLimiter(LimitConfig{PerMinute: 2, PerDay: 2, Shared: &fakeCounters{charge: allowAll}, Now: clock.Now}).Wrap(next)

	// The local buckets would allow 2, but the shared counters allow them all.
	for i := range 5 {
		if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
			t.Fatalf("lookup %d limited though the store allowed it: %v", i+1, e)
		}
	}
	if n := next.calls.Load(); n != 5 {
		t.Errorf("IPQS calls = %d, want 5", n)
	}
}

func TestLimiterSharedFallback(t *testing.T) {
	clock := newFakeClock()
	store := &fakeCounters{charge: failAll}
	next := &countingLooker{}
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 2, Per: time.Hour}, PerMinute: 3, Shared: store, Now: clock.Now}).Wrap(next)

	for i := range 2 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
			t.Fatalf("lookup %d limited while the store fails: %v", i+1, e)
		}
	}
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e == nil || e.Scope != "user" {
		t.Errorf("third lookup of alice error = %v, want the local user limit", e)
	}
	if e := lookupAs(t, looker, "U0BOB", "203.0.113.1"); e != nil {
		t.Errorf("bob's lookup limited: %v", e)
	}
	if e := lookupAs(t, looker, "U0BOB", "203.0.113.1"); e == nil || e.Scope != "minute" {
		t.Errorf("fourth lookup error = %v, want the local minute limit", e)
	}
	if n := store.callCount(); n != 5 {
		t.Errorf("Charge calls = %d, want 5: every call tries the store first", n)
	}
	if n := next.calls.Load(); n != 3 {
		t.Errorf("IPQS calls = %d, want 3", n)
	}
}

func TestLimiterFallbackKeepsOwnUse(t *testing.T) {
	clock := newFakeClock()
	store := &fakeCounters{charge: func(call int, counters []Counter) (ChargeResult, error) {
		if call < 3 {
			return ChargeResult{Charged: true}, nil
		}
		return ChargeResult{}, errStoreDown
	}}
	looker := NewLimiter(LimitConfig{PerMinute: 3, Shared: store, Now: clock.Now}).Wrap(&countingLooker{})

	for i := range 3 {
		if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
			t.Fatalf("lookup %d limited: %v", i+1, e)
		}
	}

	// The store fails from now on. The local bucket counted the 3 lookups
	// the store allowed, so the fallback starts empty, not with a burst.
	e := lookupAs(t, looker, "", "203.0.113.1")
	if e == nil || e.Scope != "minute" || e.RetryAfter != 20*time.Second {
		t.Errorf("first lookup after the store failed: error = %+v, want the minute limit with retry after 20s", e)
	}
}

func TestLimiterSharedIndexOutOfRange(t *testing.T) {
	clock := newFakeClock()
	store := &fakeCounters{charge: func(int, []Counter) (ChargeResult, error) {
		return ChargeResult{Counter: 7, RetryAfter: time.Hour}, nil
	}}
	looker := NewLimiter(LimitConfig{PerMinute: 1, Shared: store, Now: clock.Now}).Wrap(&countingLooker{})

	if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
		t.Errorf("lookup limited by a reply naming no counter: %v", e)
	}
	if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil || e.Scope != "minute" {
		t.Errorf("second lookup error = %v, want the local minute limit", e)
	}
}

func TestLimiterSharedUnlimited(t *testing.T) {
	store := &fakeCounters{charge: failAll}
	looker := NewLimiter(LimitConfig{Shared: store}).Wrap(&countingLooker{})

	for range 10 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
			t.Fatalf("unlimited limiter rejected a lookup: %v", e)
		}
	}
	if n := store.callCount(); n != 0 {
		t.Errorf("Charge calls = %d, want 0 without limits", n)
	}
}

func TestLimiterSharedDayKeyFollowsUTC(t *testing.T) {
	clock := newFakeClock()
	store := &fakeCounters{charge: allowAll}
	looker := NewLimiter(LimitConfig{PerDay: 5, Shared: store, Now: clock.Now}).Wrap(&countingLooker{})

	lookupAs(t, looker, "", "203.0.113.1")
	clock.Advance(12 * time.Hour)
	lookupAs(t, looker, "", "203.0.113.1")

	wants := []Counter{
		{Key: "day:2025-03-01", Limit: 5, End: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)},
		{Key: "day:2025-03-02", Limit: 5, End: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)},
	}
	for i, want := range wants {
		if got := store.calls[i]; len(got) != 1 || got[0] != want {
			t.Errorf("call %d: counters = %+v, want [%+v]", i+1, got, want)
		}
	}
}
