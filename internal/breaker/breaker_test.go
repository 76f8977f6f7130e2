package breaker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// scriptedLooker fails with err while it is set, and counts calls.
type scriptedLooker struct {
	mu    sync.Mutex
	err   error
	calls atomic.Int64
	block chan struct{}
}

func (l *scriptedLooker) setErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *scriptedLooker) Lookup(_ context.Context, req ipqs.Request) (*ipqs.Result, error) {
	l.calls.Add(1)
	if l.block != nil {
		<-l.block
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	return &ipqs.Result{Kind: req.Kind, Value: req.Value, IP: &ipqs.IPResult{Success: true}}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	serverErr = &ipqs.Error{Kind: ipqs.ErrServer, Op: "ip", Status: 503}
	req       = ipqs.Request{Kind: ipqs.KindIP, Value: "185.220.101.4"}
)

func newBreaker(next Looker) (*Breaker, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(next, Config{Failures: 3, OpenFor: 30 * time.Second, Now: c.Now}), c
}

// openBreaker returns a Breaker that three server errors from next have
// opened, with its clock at the moment of opening.
func openBreaker() (*scriptedLooker, *Breaker, *clock) {
	next := &scriptedLooker{err: serverErr}
	b, c := newBreaker(next)
	for range 3 {
		b.Lookup(context.Background(), req)
	}
	return next, b, c
}

func TestBreakerOpensAfterFailures(t *testing.T) {
	next := &scriptedLooker{err: serverErr}
	b, _ := newBreaker(next)
	ctx := context.Background()

	for i := range 3 {
		if _, err := b.Lookup(ctx, req); ipqs.KindOf(err) != ipqs.ErrServer {
			t.Fatalf("lookup %d: err = %v, want the server error", i+1, err)
		}
	}
	_, err := b.Lookup(ctx, req)
	open, ok := errors.AsType[*OpenError](err)
	if !ok {
		t.Fatalf("fourth lookup: err = %v, want *OpenError", err)
	}
	if open.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", open.RetryAfter)
	}
	if n := next.calls.Load(); n != 3 {
		t.Errorf("IPQS calls = %d, want 3: an open breaker must not call IPQS", n)
	}
	if !strings.Contains(open.UserMessage(), "Retry in 30 s") || !strings.Contains(open.UserMessage(), "unavailable") {
		t.Errorf("UserMessage = %q", open.UserMessage())
	}
}

func TestBreakerTrialClosesOrReopens(t *testing.T) {
	next, b, c := openBreaker()
	ctx := context.Background()

	c.Advance(30 * time.Second)
	if _, err := b.Lookup(ctx, req); ipqs.KindOf(err) != ipqs.ErrServer {
		t.Fatalf("trial: err = %v, want the server error from IPQS", err)
	}
	if _, err := b.Lookup(ctx, req); err == nil {
		t.Fatal("after a failed trial: lookup went through, want the breaker open again")
	} else if _, ok := errors.AsType[*OpenError](err); !ok {
		t.Fatalf("after a failed trial: err = %v, want *OpenError", err)
	}

	next.setErr(nil)
	c.Advance(30 * time.Second)
	for i := range 3 {
		if _, err := b.Lookup(ctx, req); err != nil {
			t.Fatalf("lookup %d after a good trial: %v", i+1, err)
		}
	}
}

func TestBreakerOneTrialAtATime(t *testing.T) {
	next, b, c := openBreaker()
	ctx := context.Background()
	c.Advance(30 * time.Second)
	next.setErr(nil)
	next.block = make(chan struct{})

	done := make(chan error, 1)
	go func() {
		_, err := b.Lookup(ctx, req)
		done <- err
	}()
	for next.calls.Load() != 4 {
		time.Sleep(time.Millisecond)
	}
	if _, err := b.Lookup(ctx, req); err == nil {
		t.Error("second lookup during the trial went through")
	}
	close(next.block)
	if err := <-done; err != nil {
		t.Fatalf("trial: %v", err)
	}
	if n := next.calls.Load(); n != 4 {
		t.Errorf("IPQS calls = %d, want 4", n)
	}
}

func TestBreakerIgnoresOtherErrors(t *testing.T) {
	next := &scriptedLooker{err: &ipqs.Error{Kind: ipqs.ErrInvalidKey, Op: "ip"}}
	b, _ := newBreaker(next)
	for i := range 10 {
		if _, err := b.Lookup(context.Background(), req); ipqs.KindOf(err) != ipqs.ErrInvalidKey {
			t.Fatalf("lookup %d: err = %v, want the invalid-key error: only outages open the breaker", i+1, err)
		}
	}
}

func TestBreakerSuccessResetsCount(t *testing.T) {
	next := &scriptedLooker{err: serverErr}
	b, _ := newBreaker(next)
	ctx := context.Background()
	b.Lookup(ctx, req)
	b.Lookup(ctx, req)
	next.setErr(nil)
	b.Lookup(ctx, req)
	next.setErr(serverErr)
	b.Lookup(ctx, req)
	b.Lookup(ctx, req)
	if _, err := b.Lookup(ctx, req); ipqs.KindOf(err) != ipqs.ErrServer {
		t.Errorf("err = %v, want the breaker still closed: the success reset the count", err)
	}
}

func TestOpenErrorShortMessage(t *testing.T) {
	e := &OpenError{RetryAfter: 12300 * time.Millisecond}
	if got, want := e.ShortMessage(), "lookup service unavailable, retry in 13 s"; got != want {
		t.Errorf("ShortMessage() = %q, want %q", got, want)
	}
}

// gateLooker blocks each lookup until it gets a token from release, then
// asks the lookup's retry check about a failed attempt and sends the
// answer. A lookup allowed to retry stands for a retry under way until
// finish closes; then, as one that was refused, it fails.
type gateLooker struct {
	started chan struct{}
	release chan struct{}
	allowed chan bool
	finish  chan struct{}
}

func (l *gateLooker) Lookup(ctx context.Context, _ ipqs.Request) (*ipqs.Result, error) {
	l.started <- struct{}{}
	<-l.release
	allowed := ipqs.AllowRetry(ctx, serverErr)
	l.allowed <- allowed
	if allowed {
		<-l.finish
	}
	return nil, serverErr
}

func TestBreakerStopsRetriesInFlight(t *testing.T) {
	next := &gateLooker{started: make(chan struct{}), release: make(chan struct{}), allowed: make(chan bool), finish: make(chan struct{})}
	b, _ := newBreaker(next)
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { b.Lookup(ctx, req) })
		<-next.started
	}
	// Each lookup's first attempt fails in turn. The third failed attempt
	// opens the breaker, before any lookup has finished, and from then on
	// no lookup in flight retries.
	want := []bool{true, true, false, false}
	for i := range want {
		next.release <- struct{}{}
		if allowed := <-next.allowed; allowed != want[i] {
			t.Errorf("lookup %d: retry allowed = %v, want %v", i+1, allowed, want[i])
		}
	}
	close(next.finish)
	wg.Wait()
	if _, err := b.Lookup(ctx, req); err == nil {
		t.Error("lookup went through after the breaker opened")
	}
}

func TestBreakerTrialWithoutAnswerKeepsItOpen(t *testing.T) {
	next, b, c := openBreaker()
	ctx := context.Background()
	c.Advance(30 * time.Second)

	// The trial is refused before IPQS is called, as by a lookup limit.
	next.setErr(errors.New("guard: user lookup limit reached"))
	if _, err := b.Lookup(ctx, req); err == nil {
		t.Fatal("trial: want the limit error")
	}
	// The next lookup is the trial: IPQS still fails, so the breaker opens
	// again instead of letting every lookup through.
	next.setErr(serverErr)
	if _, err := b.Lookup(ctx, req); ipqs.KindOf(err) != ipqs.ErrServer {
		t.Fatalf("second trial: err = %v, want the server error", err)
	}
	if _, err := b.Lookup(ctx, req); err == nil {
		t.Fatal("after the failed second trial: lookup went through, want the breaker open")
	} else if _, ok := errors.AsType[*OpenError](err); !ok {
		t.Fatalf("after the failed second trial: err = %v, want *OpenError", err)
	}
}
