package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	const raw = "xoxb-1234-abcd"
	s := New(raw)

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("msg", "token", s)
	js, err := json.Marshal(struct{ Token Value }{s})
	if err != nil {
		t.Fatal(err)
	}

	forms := map[string]string{
		//lint:ignore S1025 the test checks what fmt's %s verb prints
		"%s":             fmt.Sprintf("%s", s),
		"%v":             fmt.Sprintf("%v", s),
		"%+v":            fmt.Sprintf("%+v", s),
		"%#v":            fmt.Sprintf("%#v", s),
		"%q":             fmt.Sprintf("%q", s),
		"json":           string(js),
		"slog":           logged.String(),
		"struct %+v":     fmt.Sprintf("%+v", struct{ Token Value }{s}),
		"unexported %+v": fmt.Sprintf("%+v", struct{ token Value }{s}),
		"unexported %#v": fmt.Sprintf("%#v", struct{ token Value }{s}),
	}
	for name, out := range forms {
		if strings.Contains(out, raw) {
			t.Errorf("%s form leaks the secret: %s", name, out)
		}
	}
	if s.Reveal() != raw {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), raw)
	}
}
