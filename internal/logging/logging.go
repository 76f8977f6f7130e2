// Package logging builds the process's slog.Logger.
package logging

import (
	"io"
	"log/slog"
	"strings"

	"github.com/ipqsbot/ipqsbot/internal/secret"
)

// New returns a logger that writes JSON or text records at level and above
// to w. Any record text that contains one of the secrets, in the message or
// in a string or error attribute, has it replaced by [REDACTED]: secrets are
// kept out of logs by type, and this catches what a library might echo.
func New(w io.Writer, format string, level slog.Level, secrets ...secret.Value) *slog.Logger {
	var raw []string
	for _, s := range secrets {
		if !s.IsZero() {
			raw = append(raw, s.Reveal(), "[REDACTED]")
		}
	}
	var redact *strings.Replacer
	if len(raw) > 0 {
		redact = strings.NewReplacer(raw...)
	}

	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if redact == nil {
				return a
			}
			switch a.Value.Kind() {
			case slog.KindString:
				a.Value = slog.StringValue(redact.Replace(a.Value.String()))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					a.Value = slog.StringValue(redact.Replace(err.Error()))
				}
			}
			return a
		},
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
