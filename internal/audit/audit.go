// Package audit writes one structured record per lookup, for shipping to a
// SIEM: who asked, where, for what, and what IPQualityScore answered.
package audit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Entry points of a lookup.
const (
	EntryCommand = "command"
	EntryMention = "mention"
	EntryAuto    = "auto"
	EntryButton  = "button"
)

// Outcomes of a lookup.
const (
	// OutcomeOK is a result from IPQS or the cache.
	OutcomeOK = "ok"
	// OutcomeError is a failed lookup.
	OutcomeError = "error"
	// OutcomeSkipped is an indicator never sent, such as a private address.
	OutcomeSkipped = "skipped"
	// OutcomeLimited is a lookup refused by a spend limit.
	OutcomeLimited = "limited"
	// OutcomeDenied is a request from a user the access settings exclude.
	OutcomeDenied = "denied"
)

// Record is one lookup.
type Record struct {
	Team    string
	Channel string
	User    string
	Entry   string
	Kind    string
	// Indicator is the value with any URL credentials redacted.
	Indicator string
	Outcome   string
	Cached    bool
	Verdict   string
	RequestID string
	// Detail is the skip reason or the error, when there is one.
	Detail string
}

// Log writes records as JSON lines. The zero value and a nil *Log discard
// records. It is safe for concurrent use.
type Log struct {
	log    *slog.Logger
	closer io.Closer
}

// Open returns a Log that writes to dest: "stderr", "stdout", or the path of
// a file, which is created if needed and appended to.
func Open(dest string) (*Log, error) {
	var (
		w      io.Writer
		closer io.Closer
	)
	switch dest {
	case "", "stderr":
		w = os.Stderr
	case "stdout":
		w = os.Stdout
	default:
		f, err := os.OpenFile(dest, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
		w, closer = f, f
	}
	return &Log{log: New(w), closer: closer}, nil
}

// New returns a slog.Logger that writes audit records to w.
func New(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil)).With("log", "audit")
}

// FromLogger returns a Log that writes to l, for tests.
func FromLogger(l *slog.Logger) *Log { return &Log{log: l} }

// Lookup writes r.
func (a *Log) Lookup(ctx context.Context, r Record) {
	if a == nil || a.log == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("team", r.Team),
		slog.String("channel", r.Channel),
		slog.String("user", r.User),
		slog.String("entry", r.Entry),
		slog.String("kind", r.Kind),
		slog.String("indicator", r.Indicator),
		slog.String("outcome", r.Outcome),
		slog.String("cache", cacheWord(r)),
	}
	if r.Verdict != "" {
		attrs = append(attrs, slog.String("verdict", r.Verdict))
	}
	if r.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", r.RequestID))
	}
	if r.Detail != "" {
		attrs = append(attrs, slog.String("detail", r.Detail))
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "lookup", attrs...)
}

// cacheWord returns "hit" or "miss" for a lookup that reached the cache, and
// "none" for one that did not.
func cacheWord(r Record) string {
	switch {
	case r.Outcome != OutcomeOK && r.Outcome != OutcomeError:
		return "none"
	case r.Cached:
		return "hit"
	}
	return "miss"
}

// Close closes the audit file, if there is one.
func (a *Log) Close() error {
	if a == nil || a.closer == nil {
		return nil
	}
	return a.closer.Close()
}
