package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/internal/secret"
)

func TestNewRedactsSecrets(t *testing.T) {
	const key = "k3yk3yk3y"
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := New(&buf, format, slog.LevelDebug, secret.New(key))

		log.Info("calling with "+key, "url", "https://x/?key="+key, "err", errors.New("failed: "+key))
		log.With("group_key", key).Debug("debug")

		out := buf.String()
		if strings.Contains(out, key) {
			t.Errorf("%s output leaks the secret: %s", format, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s output has no redaction mark: %s", format, out)
		}
	}
}

func TestNewLevel(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "json", slog.LevelWarn)
	log.Info("quiet")
	log.Warn("loud")
	if strings.Contains(buf.String(), "quiet") || !strings.Contains(buf.String(), "loud") {
		t.Errorf("level filter wrong: %s", buf.String())
	}
}
