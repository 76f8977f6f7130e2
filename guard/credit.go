package guard

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// AccountReader reads the IPQS account, whose Credits are the credits left.
// *ipqs.Client implements it.
type AccountReader interface {
	Account(ctx context.Context) (*ipqs.Account, error)
}

// Notifier sends a plain-text message to the admins (ADMIN_CHANNEL).
type Notifier interface {
	Notify(ctx context.Context, text string) error
}

// DefaultThresholds is the default credit warning setting.
const DefaultThresholds = "20%,5%"

// DefaultCreditInterval is how often CreditWatch.Run polls the account when
// its interval is 0.
const DefaultCreditInterval = time.Hour

// accountTimeout bounds one account call in CreditWatch.Run.
const accountTimeout = 30 * time.Second

// Threshold is a credit level below which the admins are warned. Exactly one
// field is set.
type Threshold struct {
	// Percent is a share of the balance baseline, above 0 and below 100.
	Percent float64
	// Credits is a number of credits above 0.
	Credits int64
}

// String returns t as written in the setting, such as "5%" or "1000".
func (t Threshold) String() string {
	if t.Percent > 0 {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(t.Credits, 10)
}

// ParseThresholds reads a comma-separated list of thresholds, each either a
// percentage of the balance baseline above 0 and below 100 (such as 5%) or a
// number of credits above 0 (such as 1000), as in "20%,5%" or "10%,200".
func ParseThresholds(s string) ([]Threshold, error) {
	var out []Threshold
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		t, err := parseThreshold(item)
		if err != nil {
			return nil, err
		}
		for _, seen := range out {
			if seen == t {
				return nil, fmt.Errorf("duplicate credit threshold %q in %q", item, s)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func parseThreshold(item string) (Threshold, error) {
	if number, ok := strings.CutSuffix(item, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(number), 64)
		if err == nil && p > 0 && p < 100 {
			return Threshold{Percent: p}, nil
		}
	} else {
		n, err := strconv.ParseInt(item, 10, 64)
		if err == nil && n > 0 {
			return Threshold{Credits: n}, nil
		}
	}
	return Threshold{}, fmt.Errorf("invalid credit threshold %q: want a percentage above 0 and below 100, such as 5%%, or a number of credits above 0, such as 1000", item)
}

// CreditWatch warns the admins when the IPQS credits left fall below a
// threshold. It is safe for concurrent use.
//
// Percentages are taken of the baseline: the first reading, raised by any
// later reading above it, so that a top-up or a new billing period moves the
// warning levels with the balance.
type CreditWatch struct {
	thresholds []Threshold
	acct       AccountReader
	notify     Notifier
	interval   time.Duration
	log        *slog.Logger

	mu       sync.Mutex
	baseline int64
	seen     bool
	// armed[i] is whether thresholds[i] warns when crossed. A warning
	// clears it, and a reading above the level sets it again.
	armed []bool
}

// NewCreditWatch returns a CreditWatch for th that reads acct every
// interval in Run (0 means DefaultCreditInterval) and sends warnings to
// notify. A nil notify logs the warnings instead, and a nil log discards
// messages.
func NewCreditWatch(th []Threshold, acct AccountReader, notify Notifier, interval time.Duration, log *slog.Logger) *CreditWatch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultCreditInterval
	}
	armed := make([]bool, len(th))
	for i := range armed {
		armed[i] = true
	}
	return &CreditWatch{
		thresholds: th,
		acct:       acct,
		notify:     notify,
		interval:   interval,
		log:        log,
		armed:      armed,
	}
}

// Observe records a reading of the credits left, from /ipqs status or the
// poll in Run. A reading below an armed threshold sends one warning, and a
// reading that crosses several thresholds at once sends one warning naming
// the lowest. A threshold warns again only after a reading above it. The
// first reading warns too when it is already below a threshold in credits.
// When the notifier fails, the error is logged and the next reading below
// the level tries again. Observe waits for the notifier.
func (w *CreditWatch) Observe(ctx context.Context, credits int64) {
	w.mu.Lock()
	if !w.seen || credits > w.baseline {
		w.baseline, w.seen = credits, true
	}
	baseline := w.baseline

	crossed := make([]int, 0, len(w.thresholds))
	lowest := -1
	for i, t := range w.thresholds {
		level := w.level(t)
		switch {
		case float64(credits) < level && w.armed[i]:
			w.armed[i] = false
			crossed = append(crossed, i)
			if lowest < 0 || level < w.level(w.thresholds[lowest]) {
				lowest = i
			}
		case float64(credits) > level:
			w.armed[i] = true
		}
	}
	w.mu.Unlock()

	if lowest < 0 {
		return
	}

	text := warningText(credits, w.thresholds[lowest], baseline)
	w.log.Warn("IPQS credits low", "credits", credits, "threshold", w.thresholds[lowest].String(), "baseline", baseline)
	if w.notify == nil {
		return
	}
	if err := w.notify.Notify(ctx, text); err != nil {
		w.log.Error("credit warning not sent", "err", err)
		w.mu.Lock()
		for _, i := range crossed {
			w.armed[i] = true
		}
		w.mu.Unlock()
	}
}

// level returns the credit level of t for the current baseline. The caller
// holds w.mu.
func (w *CreditWatch) level(t Threshold) float64 {
	if t.Percent > 0 {
		return float64(w.baseline) * t.Percent / 100
	}
	return float64(t.Credits)
}

// warningText returns the Slack message for credits below t.
func warningText(credits int64, t Threshold, baseline int64) string {
	var level string
	if t.Percent > 0 {
		amount := int64(math.Round(float64(baseline) * t.Percent / 100))
		level = fmt.Sprintf("%s (%s of %s, the highest balance seen since the bot started)",
			t.String(), formatCount(amount), formatCount(baseline))
	} else {
		level = formatCount(t.Credits) + " credits"
	}
	return fmt.Sprintf("IPQualityScore credits are low: %s left, below the warning level of %s. "+
		"Top up the account or lower the bot's lookup limits.", formatCount(credits), level)
}

// Run reads the account at once and then every interval until ctx ends, and
// passes the credits to Observe. Failed reads are logged and skipped.
func (w *CreditWatch) Run(ctx context.Context) {
	w.log.Info("credit watch started", "interval", w.interval.String(), "thresholds", len(w.thresholds))
	defer w.log.Info("credit watch stopped")

	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		w.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (w *CreditWatch) poll(ctx context.Context) {
	readCtx, cancel := context.WithTimeout(ctx, accountTimeout)
	defer cancel()

	acct, err := w.acct.Account(readCtx)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		w.log.Warn("IPQS account not read", "err", err)
		return
	case acct == nil || !bool(acct.Success):
		message := ""
		if acct != nil {
			message = string(acct.Message)
		}
		w.log.Warn("IPQS account request failed", "message", message)
		return
	case !acct.Credits.Valid:
		w.log.Warn("IPQS account response has no credits", "request_id", acct.RequestID)
		return
	}
	w.Observe(ctx, acct.Credits.Value)
}
