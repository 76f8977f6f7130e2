// Package breaker stops calling IPQualityScore for a while after repeated
// server failures, so that an outage costs neither time nor retries and
// users get an answer at once.
package breaker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup. *ipqs.Client implements it, and so does *Breaker.
type Looker interface {
	Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)
}

// Defaults for Config fields left zero.
const (
	DefaultFailures = 5
	DefaultOpenFor  = 30 * time.Second
)

// Config configures a Breaker.
type Config struct {
	// Failures is how many IPQS calls in a row must fail with a server
	// error, a timeout or a network error to open the breaker. A retry
	// counts as a call.
	Failures int
	// OpenFor is how long the breaker stays open before it lets one trial
	// lookup through.
	OpenFor time.Duration
	Logger  *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Breaker is a Looker that returns an *OpenError, without calling IPQS,
// while IPQS is failing. It is closed at first and opens after
// Config.Failures failed calls in a row, retries included. After Config.OpenFor it lets one
// trial lookup through, whose success closes the breaker and whose failure
// opens it again. Errors that say nothing of IPQS's health, such as an invalid key
// or a spend limit, neither count nor reset the count. It is safe for
// concurrent use.
type Breaker struct {
	next     Looker
	failures int
	openFor  time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	failed    int
	openUntil time.Time
	trial     bool
}

var _ Looker = (*Breaker)(nil)

// New returns a Breaker in front of next.
func New(next Looker, cfg Config) *Breaker {
	b := &Breaker{next: next, failures: cfg.Failures, openFor: cfg.OpenFor, log: cfg.Logger, now: cfg.Now}
	if b.failures <= 0 {
		b.failures = DefaultFailures
	}
	if b.openFor <= 0 {
		b.openFor = DefaultOpenFor
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// OpenError is returned while the breaker is open.
type OpenError struct {
	// RetryAfter is how long until the breaker lets a lookup through again.
	RetryAfter time.Duration
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: IPQS lookups paused after repeated failures; retry in %s", e.RetryAfter.Round(time.Second))
}

// UserMessage returns the sentence shown to Slack users.
func (e *OpenError) UserMessage() string {
	seconds := max(1, int((e.RetryAfter+time.Second-1)/time.Second))
	return fmt.Sprintf("The lookup service is unavailable: IPQualityScore failed several times in a row. Retry in %d s.", seconds)
}

// ShortMessage returns a few words for a one-line summary in Slack.
func (e *OpenError) ShortMessage() string {
	seconds := max(1, int((e.RetryAfter+time.Second-1)/time.Second))
	return fmt.Sprintf("lookup service unavailable, retry in %d s", seconds)
}

// Lookup calls the next Looker unless the breaker is open.
func (b *Breaker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	if err := b.admit(); err != nil {
		return nil, err
	}
	// Failed attempts count as they happen, so that an outage opens the
	// breaker before the lookups in flight have used up their retries, and
	// once it is open they stop retrying.
	res, err := b.next.Lookup(ipqs.WithRetryCheck(ctx, b.beforeRetry), req)
	b.record(err)
	return res, err
}

// beforeRetry counts err, a failed attempt of a lookup in flight that is
// about to be retried, and reports whether the retry may go ahead: not
// while the breaker is open, which includes a trial lookup.
func (b *Breaker) beforeRetry(err error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if countsAsOutage(err) {
		b.failed++
		if b.failed >= b.failures && b.openUntil.IsZero() {
			b.log.Warn("IPQS failing: lookups paused", "failures_in_a_row", b.failed, "open_for", b.openFor, "err", err)
			b.openUntil = b.now().Add(b.openFor)
		}
	}
	return b.openUntil.IsZero()
}

// admit returns an *OpenError while the breaker is open, and lets exactly
// one trial lookup through once it has been open for openFor.
func (b *Breaker) admit() error {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.openUntil.IsZero() {
		return nil
	}
	now := b.now()
	if now.Before(b.openUntil) || b.trial {
		wait := b.openUntil.Sub(now)
		if b.trial {
			// A trial is running; the next one comes after another period.
			wait = max(wait, 0) + b.openFor/10
		}
		return &OpenError{RetryAfter: max(wait, time.Second)}
	}
	b.trial = true
	return nil
}

// record updates the state with the outcome of a lookup.
func (b *Breaker) record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	trial := b.trial
	b.trial = false
	switch {
	case err == nil:
		if !b.openUntil.IsZero() {
			b.log.Info("IPQS responds again: lookups resumed")
		}
		b.failed, b.openUntil = 0, time.Time{}
	case countsAsOutage(err):
		b.failed++
		if trial || b.failed >= b.failures {
			if b.openUntil.IsZero() || trial {
				b.log.Warn("IPQS failing: lookups paused", "failures_in_a_row", b.failed, "open_for", b.openFor, "err", err)
			}
			b.openUntil = b.now().Add(b.openFor)
		}
	case trial && !reachedIPQS(err):
		// A trial that never reached IPQS, such as one rejected by a
		// lookup limit, shows nothing of its health, so the next lookup is
		// the trial.
		b.openUntil = b.now()
	case trial:
		// A trial that failed for another reason, such as invalid input,
		// shows IPQS is up.
		b.failed, b.openUntil = 0, time.Time{}
	}
}

// reachedIPQS reports whether err shows something of IPQS's health: an
// error of a call to IPQS. Errors raised before the call, such as a lookup
// limit, and those of a caller that gave up, do not.
func reachedIPQS(err error) bool {
	kind := ipqs.KindOf(err)
	return kind != "" && kind != ipqs.ErrCanceled
}

// countsAsOutage reports whether err shows that IPQS itself is failing.
func countsAsOutage(err error) bool {
	switch ipqs.KindOf(err) {
	case ipqs.ErrServer, ipqs.ErrTimeout, ipqs.ErrNetwork:
		return true
	}
	return false
}
