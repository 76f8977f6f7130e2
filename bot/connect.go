package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Bounds of apps.connections.open calls. slack-go's socketmode client
// reconnects at once after every disconnect, whatever its reason, and backs
// off only when a connect fails, so a server that keeps sending disconnect
// (link_disabled, too_many_websockets) would make it call
// apps.connections.open in a tight loop. The gate allows a burst of
// openBurst calls and then one per openEvery.
const (
	openBurst = 3
	openEvery = 20 * time.Second
	// openTimeout bounds one apps.connections.open call, body included,
	// after its wait at the gate.
	openTimeout = 30 * time.Second
)

// openGate is an http.RoundTripper that bounds the calls of
// apps.connections.open with a token bucket, and passes every other
// request through. A call over the bound waits for its turn, or until its
// request's context ends.
type openGate struct {
	next    http.RoundTripper
	burst   float64
	every   time.Duration
	timeout time.Duration
	log     *slog.Logger
	metrics Metrics

	mu sync.Mutex
	// tokens may fall below zero: each call reserves a turn, and the
	// deficit is how long the latest caller waits.
	tokens float64
	last   time.Time
}

func newOpenGate(next http.RoundTripper, burst int, every time.Duration, log *slog.Logger, m Metrics) *openGate {
	return &openGate{
		next: next, burst: float64(burst), every: every, timeout: openTimeout, log: log, metrics: m,
		tokens: float64(burst), last: time.Now(),
	}
}

func (g *openGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/apps.connections.open") {
		return g.next.RoundTrip(req)
	}
	wait := g.reserve(time.Now())
	if wait > 0 {
		g.log.Warn("reconnecting too often: waiting before opening a Socket Mode connection",
			"wait", wait.Round(time.Millisecond), "bound_per_minute", float64(time.Minute)/float64(g.every))
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
	g.metrics.ConnectionOpen(wait > 0)

	// The client has no overall timeout, because the wait above must not
	// count against one, so the call gets its own here.
	ctx, cancel := context.WithTimeout(req.Context(), g.timeout)
	resp, err := g.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose is a response body that ends its request's context when
// closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// reserve takes a turn and returns how long to wait for it.
func (g *openGate) reserve(now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens = min(g.burst, g.tokens+float64(now.Sub(g.last))/float64(g.every))
	g.last = now
	g.tokens--
	if g.tokens >= 0 {
		return 0
	}
	return time.Duration(-g.tokens * float64(g.every))
}
