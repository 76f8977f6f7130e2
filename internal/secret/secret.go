// Package secret holds credentials in a type that never prints its value.
package secret

import "log/slog"

const redacted = "[REDACTED]"

// Value is a credential such as an API key or a Slack token. Its String,
// GoString, LogValue, MarshalText and Format forms are redacted, so it can be
// passed to loggers and fmt without leaking. The zero Value is empty.
//
// The credential sits behind a pointer, so that even fmt's reflection on a
// struct with an unexported Value field prints an address, not the text.
type Value struct {
	p *string
}

// New returns a Value holding s.
func New(s string) Value { return Value{p: &s} }

// Reveal returns the credential itself, for the one place that sends it.
func (s Value) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the Value is empty.
func (s Value) IsZero() bool { return s.Reveal() == "" }

// String returns a redacted placeholder.
func (s Value) String() string { return redacted }

// GoString returns a redacted placeholder, so %#v does not print the value.
func (s Value) GoString() string { return "secret.Value(" + redacted + ")" }

// LogValue returns a redacted placeholder for log/slog.
func (s Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns a redacted placeholder, so JSON encoding does not leak.
func (s Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }
