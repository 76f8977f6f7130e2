package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/testredis"
)

// testPrefix returns a key prefix of its own for one test, so that tests
// share the database without flushing it.
func testPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "ipqsbot-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

func newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreGetSet(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	ctx := context.Background()

	if _, found, err := s.Get(ctx, "absent"); err != nil || found {
		t.Fatalf("Get absent key: found = %v, err = %v; want a miss", found, err)
	}
	if err := s.Set(ctx, "k", []byte("value"), time.Minute); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Get(ctx, "k")
	if err != nil || !found {
		t.Fatalf("Get: found = %v, err = %v; want a hit", found, err)
	}
	if string(got) != "value" {
		t.Errorf("Get = %q, want %q", got, "value")
	}
	if !s.Healthy() {
		t.Error("Healthy = false after successful calls")
	}
}

func TestStoreSetExpires(t *testing.T) {
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t)})
	ctx := context.Background()

	if err := s.Set(ctx, "k", []byte("value"), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ttl, err := s.client.PTTL(ctx, s.prefix+"cache:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 100*time.Millisecond {
		t.Errorf("PTTL = %v, want between 0 and 100ms", ttl)
	}

	time.Sleep(200 * time.Millisecond)
	if _, found, err := s.Get(ctx, "k"); err != nil || found {
		t.Errorf("Get after the TTL: found = %v, err = %v; want a miss", found, err)
	}
}

func TestStoreLockExclusive(t *testing.T) {
	prefix := testPrefix(t)
	a := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	b := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	ctx := context.Background()

	unlockA, held, err := a.Lock(ctx, "ind", time.Minute)
	if err != nil || !held {
		t.Fatalf("first Lock: held = %v, err = %v; want held", held, err)
	}
	if _, held, err := b.Lock(ctx, "ind", time.Minute); err != nil || held {
		t.Fatalf("second Lock while held: held = %v, err = %v; want not held", held, err)
	}

	unlockA(ctx)
	unlockB, held, err := b.Lock(ctx, "ind", time.Minute)
	if err != nil || !held {
		t.Fatalf("Lock after unlock: held = %v, err = %v; want held", held, err)
	}
	unlockB(ctx)
}

func TestStoreLockConcurrent(t *testing.T) {
	prefix := testPrefix(t)
	stores := []*Store{
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
	}

	var holders atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, held, err := stores[i%2].Lock(context.Background(), "ind", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if held {
				holders.Add(1)
			}
		})
	}
	wg.Wait()
	if n := holders.Load(); n != 1 {
		t.Errorf("holders = %d, want 1", n)
	}
}

func TestStoreUnlockChecksToken(t *testing.T) {
	prefix := testPrefix(t)
	a := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	b := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	ctx := context.Background()

	unlockA, held, err := a.Lock(ctx, "ind", 100*time.Millisecond)
	if err != nil || !held {
		t.Fatalf("Lock: held = %v, err = %v; want held", held, err)
	}
	time.Sleep(200 * time.Millisecond)
	unlockB, held, err := b.Lock(ctx, "ind", time.Minute)
	if err != nil || !held {
		t.Fatalf("Lock after expiry: held = %v, err = %v; want held", held, err)
	}

	// A's lock expired, so A's unlock must leave B's lock in place.
	unlockA(ctx)
	if _, held, err := a.Lock(ctx, "ind", time.Minute); err != nil || held {
		t.Errorf("Lock after a stale unlock: held = %v, err = %v; want B's lock kept", held, err)
	}

	unlockB(ctx)
	if _, held, err := a.Lock(ctx, "ind", time.Minute); err != nil || !held {
		t.Errorf("Lock after the holder's unlock: held = %v, err = %v; want held", held, err)
	}
}

func TestFirstSeenAcrossReplicas(t *testing.T) {
	prefix := testPrefix(t)
	a := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	b := newStore(t, Config{URL: testredis.URL(t), Prefix: prefix})
	ctx := context.Background()

	if !a.FirstSeen(ctx, "Ev01") {
		t.Error("replica A: first event not new")
	}
	if b.FirstSeen(ctx, "Ev01") {
		t.Error("replica B: event seen by A reported new")
	}
	if a.FirstSeen(ctx, "Ev01") {
		t.Error("replica A: repeated event reported new")
	}
	if !b.FirstSeen(ctx, "Ev02") {
		t.Error("replica B: other event not new")
	}

	ttl, err := a.client.PTTL(ctx, prefix+"seen:Ev01").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 10*time.Minute || ttl > 15*time.Minute {
		t.Errorf("seen key TTL = %v, want 10 to 15 minutes", ttl)
	}
}

func TestFirstSeenConcurrent(t *testing.T) {
	prefix := testPrefix(t)
	stores := []*Store{
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
		newStore(t, Config{URL: testredis.URL(t), Prefix: prefix}),
	}

	var firsts atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if stores[i%2].FirstSeen(context.Background(), "C0123ABCD:1700000000.000100") {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Errorf("calls that saw the key first = %d, want 1", n)
	}
}

// unreachableURL points at a port where nothing listens.
const unreachableURL = "redis://:s3cret-pass@127.0.0.1:1/0"

func TestUnreachableLogsOnce(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))
	s := newStore(t, Config{URL: unreachableURL, Logger: log, ProbeInterval: 10 * time.Millisecond})
	ctx := context.Background()

	for range 30 {
		if _, _, err := s.Get(ctx, "k"); err == nil {
			t.Fatal("Get on an unreachable server returned no error")
		}
		if err := s.Set(ctx, "k", []byte("v"), time.Minute); err == nil {
			t.Fatal("Set on an unreachable server returned no error")
		}
		if _, _, err := s.Lock(ctx, "k", time.Minute); err == nil {
			t.Fatal("Lock on an unreachable server returned no error")
		}
		time.Sleep(time.Millisecond)
	}

	if n := strings.Count(logged.String(), "redis unreachable"); n != 1 {
		t.Errorf("unreachable records = %d, want 1:\n%s", n, logged.String())
	}
	if s.Healthy() {
		t.Error("Healthy = true on an unreachable server")
	}
	if strings.Contains(logged.String(), "s3cret-pass") {
		t.Errorf("log contains the password:\n%s", logged.String())
	}
}

func TestUnreachableFailsFastBetweenProbes(t *testing.T) {
	s := newStore(t, Config{URL: unreachableURL, Logger: slog.New(slog.DiscardHandler), ProbeInterval: time.Hour})
	ctx := context.Background()

	if _, _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("first Get: err = %v, want a connection error", err)
	}
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("second Get: err = %v, want ErrUnavailable without a new attempt", err)
	}
}

func TestFirstSeenFallsBackToMemory(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))
	s := newStore(t, Config{URL: unreachableURL, Logger: log})
	ctx := context.Background()

	if !s.FirstSeen(ctx, "Ev01") {
		t.Error("first event not new")
	}
	if s.FirstSeen(ctx, "Ev01") {
		t.Error("repeated event reported new while Redis is unreachable")
	}
	if !strings.Contains(logged.String(), "falls back to this process's memory") {
		t.Errorf("log does not mention the fallback:\n%s", logged.String())
	}
}

func TestRecoveryLogged(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))
	s := newStore(t, Config{URL: testredis.URL(t), Prefix: testPrefix(t), Logger: log})
	ctx := context.Background()

	// Simulate an outage by recording one failure, then call Redis again.
	s.end(ctx, errors.New("dial tcp 127.0.0.1:6390: connection refused"))
	s.mu.Lock()
	s.lastProbe = time.Time{}
	s.mu.Unlock()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	out := logged.String()
	if n := strings.Count(out, "redis unreachable"); n != 1 {
		t.Errorf("unreachable records = %d, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "redis reachable again"); n != 1 {
		t.Errorf("recovery records = %d, want 1:\n%s", n, out)
	}
	if !s.Healthy() {
		t.Error("Healthy = false after recovery")
	}
}

func TestNewRejectsInvalidURL(t *testing.T) {
	_, err := New(Config{URL: "http://:pw-9f2@127.0.0.1:6379"})
	if err == nil {
		t.Fatal("New accepted an http URL")
	}
	if strings.Contains(err.Error(), "pw-9f2") {
		t.Errorf("error contains the password: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	got := Redacted("rediss://user:pw-9f2@cache.example:6380/2")
	if strings.Contains(got, "pw-9f2") || !strings.Contains(got, "cache.example:6380") {
		t.Errorf("Redacted = %q, want the host kept and the password hidden", got)
	}
}

// syncWriter serialises writes from concurrent log calls.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
