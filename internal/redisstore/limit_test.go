package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/internal/testredis"
)

// noon is the time of most Charge calls here: noon UTC, so the day count
// ends 12 hours later.
var noon = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var dayCounter = guard.Counter{Key: "day:2025-03-01", Limit: 2, End: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)}

// mustCharge calls Charge and fails the test on an error.
func mustCharge(t *testing.T, s *Store, now time.Time, counters ...guard.Counter) guard.ChargeResult {
	t.Helper()
	res, err := s.Charge(context.Background(), now, counters)
	if err != nil {
		t.Fatalf("Charge at %s: %v", now.Format(time.TimeOnly), err)
	}
	return res
}

func TestChargeBucketBurstThenRefill(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	user := guard.Counter{Key: "user:U0ALICE", Limit: 30, Per: time.Minute}

	for i := range 30 {
		if res := mustCharge(t, s, noon, user); !res.Charged {
			t.Fatalf("lookup %d of the burst rejected: %+v", i+1, res)
		}
	}
	res := mustCharge(t, s, noon, user)
	if res.Charged || res.Counter != 0 || res.RetryAfter != 2*time.Second {
		t.Fatalf("lookup 31 = %+v, want counter 0 rejected with retry after 2s", res)
	}

	if res := mustCharge(t, s, noon.Add(1999*time.Millisecond), user); res.Charged {
		t.Error("lookup 1ms before a token refilled succeeded")
	}
	if res := mustCharge(t, s, noon.Add(2*time.Second), user); !res.Charged {
		t.Errorf("lookup after one token refilled = %+v, want charged", res)
	}
	if res := mustCharge(t, s, noon.Add(2*time.Second), user); res.Charged {
		t.Error("second lookup after one token refilled succeeded")
	}
}

func TestChargeBucketKeyExpiresWhenFull(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	user := guard.Counter{Key: "user:U0ALICE", Limit: 30, Per: time.Minute}

	for range 3 {
		mustCharge(t, s, noon, user)
	}
	ttl, err := s.client.PTTL(context.Background(), s.prefix+"limit:user:U0ALICE").Result()
	if err != nil {
		t.Fatal(err)
	}
	// 3 tokens refill in 6 seconds.
	if ttl <= 5*time.Second || ttl > 6*time.Second {
		t.Errorf("PTTL = %v, want between 5s and 6s", ttl)
	}
}

func TestChargeAllOrNothing(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	user := guard.Counter{Key: "user:U0ALICE", Limit: 2, Per: 24 * time.Hour}
	minute := guard.Counter{Key: "minute", Limit: 1, Per: time.Minute}

	if res := mustCharge(t, s, noon, user, minute); !res.Charged {
		t.Fatalf("first lookup = %+v, want charged", res)
	}
	for range 5 {
		if res := mustCharge(t, s, noon, user, minute); res.Charged || res.Counter != 1 {
			t.Fatalf("lookup over the minute limit = %+v, want counter 1 rejected", res)
		}
	}

	// Had the five rejected lookups taken the user's tokens, the user's
	// bucket would be empty now.
	if res := mustCharge(t, s, noon.Add(time.Minute), user, minute); !res.Charged {
		t.Fatalf("lookup after the minute refilled = %+v, want charged", res)
	}
	res := mustCharge(t, s, noon.Add(2*time.Minute), user, minute)
	if res.Charged || res.Counter != 0 {
		t.Errorf("third charged lookup = %+v, want counter 0 rejected", res)
	}
}

func TestChargeDayCount(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})

	for i := range 2 {
		if res := mustCharge(t, s, noon, dayCounter); !res.Charged {
			t.Fatalf("lookup %d of the day = %+v, want charged", i+1, res)
		}
	}
	res := mustCharge(t, s, noon.Add(time.Hour), dayCounter)
	if res.Charged || res.Counter != 0 || res.RetryAfter != 11*time.Hour {
		t.Errorf("third lookup of the day = %+v, want rejected with retry after 11h, at midnight UTC", res)
	}

	ttl, err := s.client.PTTL(context.Background(), s.prefix+"limit:"+dayCounter.Key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 11*time.Hour || ttl > 12*time.Hour {
		t.Errorf("PTTL = %v, want until midnight UTC, 12h after the charges", ttl)
	}

	midnight := dayCounter.End
	nextDay := guard.Counter{Key: "day:2025-03-02", Limit: 2, End: midnight.Add(24 * time.Hour)}
	if res := mustCharge(t, s, midnight, nextDay); !res.Charged {
		t.Errorf("first lookup of the next day = %+v, want charged", res)
	}
}

func TestChargeLongestWait(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	user := guard.Counter{Key: "user:U0ALICE", Limit: 1, Per: time.Minute}
	day := dayCounter
	day.Limit = 1

	mustCharge(t, s, noon, user, day)
	res := mustCharge(t, s, noon, user, day)
	if res.Charged || res.Counter != 1 || res.RetryAfter != 12*time.Hour {
		t.Errorf("result = %+v, want counter 1, the day, rejected with retry after 12h", res)
	}
}

func TestChargeClockBehind(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	minute := guard.Counter{Key: "minute", Limit: 2, Per: time.Minute}
	behind := noon.Add(-time.Hour)

	mustCharge(t, s, noon, minute)
	if res := mustCharge(t, s, behind, minute); !res.Charged {
		t.Errorf("lookup from a clock an hour behind, with a token left = %+v, want charged", res)
	}
	if res := mustCharge(t, s, behind, minute); res.Charged {
		t.Error("lookup from a clock an hour behind, with no token left, succeeded")
	}

	// The refill counts from the latest time seen, noon: one token takes 30s.
	if res := mustCharge(t, s, noon.Add(29*time.Second), minute); res.Charged {
		t.Error("lookup before the token refilled succeeded")
	}
	if res := mustCharge(t, s, noon.Add(30*time.Second), minute); !res.Charged {
		t.Errorf("lookup after the token refilled = %+v, want charged", res)
	}
}

func TestChargeConcurrentReplicas(t *testing.T) {
	prefix := testPrefix(t)
	stores := []*Store{
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
	}
	minute := guard.Counter{Key: "minute", Limit: 30, Per: time.Hour}

	var charged, rejected atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			res, err := stores[i%2].Charge(context.Background(), noon, []guard.Counter{minute})
			switch {
			case err != nil:
				t.Error(err)
			case res.Charged:
				charged.Add(1)
			default:
				rejected.Add(1)
			}
		})
	}
	wg.Wait()

	if n := charged.Load(); n != 30 {
		t.Errorf("charged = %d, want 30", n)
	}
	if n := rejected.Load(); n != 70 {
		t.Errorf("rejected = %d, want 70", n)
	}
}

func TestChargeNoCounters(t *testing.T) {
	s := newStore(t, Config{URL: unreachableURL, Logger: slog.New(slog.DiscardHandler)})
	res, err := s.Charge(context.Background(), noon, nil)
	if err != nil || !res.Charged {
		t.Errorf("Charge without counters = %+v, %v; want charged without a call", res, err)
	}
}

func TestChargeInvalidCounter(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	tests := []struct {
		name    string
		counter guard.Counter
	}{
		{"no key", guard.Counter{Limit: 1, Per: time.Minute}},
		{"zero limit", guard.Counter{Key: "minute", Per: time.Minute}},
		{"period under 1ms", guard.Counter{Key: "minute", Limit: 1, Per: time.Microsecond}},
		{"count ended", guard.Counter{Key: "day:2025-02-28", Limit: 1, End: noon.Add(-time.Hour)}},
		{"no period or end", guard.Counter{Key: "day", Limit: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Charge(context.Background(), noon, []guard.Counter{tt.counter})
			if !errors.Is(err, errInvalidCounter) {
				t.Errorf("err = %v, want errInvalidCounter", err)
			}
		})
	}
}

func TestChargeUnreachable(t *testing.T) {
	s := newStore(t, Config{URL: unreachableURL, Logger: slog.New(slog.DiscardHandler), ProbeInterval: time.Hour})
	minute := []guard.Counter{{Key: "minute", Limit: 1, Per: time.Minute}}

	if _, err := s.Charge(context.Background(), noon, minute); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("first Charge: err = %v, want a connection error", err)
	}
	if _, err := s.Charge(context.Background(), noon, minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("second Charge: err = %v, want ErrUnavailable without a new attempt", err)
	}
}

func TestChargeWrongTypeIsError(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	ctx := context.Background()
	if err := s.client.Set(ctx, s.prefix+"limit:minute", "not a hash", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	_, err := s.Charge(ctx, noon, []guard.Counter{{Key: "minute", Limit: 1, Per: time.Minute}})
	if err == nil {
		t.Fatal("Charge on a key of another type returned no error")
	}
	if !s.Healthy() {
		t.Error("Healthy = false after an error reply: Redis responded")
	}
}

func BenchmarkCharge(b *testing.B) {
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	s, err := New(Config{URL: testredis.URL(b), Prefix: "ipqsbot-test:BenchmarkCharge:" + hex.EncodeToString(prefix[:]) + ":"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Limits far above b.N, so that every call charges.
	counters := []guard.Counter{
		{Key: "user:U0ALICE", Limit: 1 << 30, Per: time.Minute},
		{Key: "minute", Limit: 1 << 30, Per: time.Minute},
		{Key: "day:2025-03-01", Limit: 1 << 30, End: dayCounter.End},
	}

	ctx := context.Background()
	for b.Loop() {
		res, err := s.Charge(ctx, noon, counters)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Charged {
			b.Fatalf("Charge = %+v, want charged", res)
		}
	}
}
