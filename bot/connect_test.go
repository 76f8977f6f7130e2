package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

func TestOpenGateReserve(t *testing.T) {
	g := newOpenGate(http.DefaultTransport, 3, 20*time.Second, slog.New(slog.DiscardHandler), noMetrics{})
	start := g.last

	var waits []time.Duration
	for range 5 {
		waits = append(waits, g.reserve(start))
	}
	want := []time.Duration{0, 0, 0, 20 * time.Second, 40 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("call %d at once waits %v, want %v", i+1, waits[i], want[i])
		}
	}
	// A minute refills three turns; two of them paid the deficit.
	if w := g.reserve(start.Add(time.Minute)); w != 0 {
		t.Errorf("call a minute later waits %v, want 0", w)
	}
	if w := g.reserve(start.Add(time.Minute)); w != 20*time.Second {
		t.Errorf("next call waits %v, want 20s", w)
	}
}

func TestReconnectStormBounded(t *testing.T) {
	for _, reason := range []string{slacksim.ReasonTooManyWebsockets, slacksim.ReasonLinkDisabled} {
		t.Run(reason, func(t *testing.T) {
			sim := slacksim.New(slacksim.Options{DisconnectGrace: 10 * time.Millisecond})
			defer sim.Close()
			sim.DisconnectEveryConnection(reason)

			b, err := New(Config{AppToken: secret.New(sim.AppToken()), BotToken: secret.New(sim.BotToken()), APIURL: sim.APIURL()})
			if err != nil {
				t.Fatal(err)
			}
			const burst, every = 3, 200 * time.Millisecond
			b.gate.burst, b.gate.tokens, b.gate.every = burst, burst, every

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			runCtx, stopRun := context.WithCancel(ctx)
			done := make(chan error, 1)
			h := &recordingHandler{release: make(chan struct{})}
			close(h.release)
			start := time.Now()
			go func() { done <- b.Run(runCtx, h) }()

			time.Sleep(2 * time.Second)
			opens := sim.ConnectionsOpened()
			bound := burst + int(time.Since(start)/every) + 1
			t.Logf("apps.connections.open: %d calls in %v", opens, time.Since(start).Round(time.Millisecond))
			if opens > bound {
				t.Errorf("apps.connections.open called %d times in %v, want at most %d", opens, time.Since(start).Round(time.Millisecond), bound)
			}
			if opens < burst+2 {
				t.Errorf("apps.connections.open called %d times, want the bot to keep reconnecting", opens)
			}

			// Once Slack stops disconnecting, the bot connects and acknowledges.
			sim.DisconnectEveryConnection("")
			id := sim.SlashCommand(slacksim.SlashCommand{Text: "1.2.3.4"})
			if _, err := sim.WaitAck(ctx, id); err != nil {
				t.Fatalf("command after the storm not acknowledged: %v", err)
			}
			stopRun()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

func TestOpenGateBoundsStalledCall(t *testing.T) {
	stalled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `{"ok":true,`)
		w.(http.Flusher).Flush()
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stalled)

	b, err := New(Config{AppToken: secret.New("xapp-1-test"), BotToken: secret.New("xoxb-test"), APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	b.gate.timeout = 200 * time.Millisecond

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err = socketmode.New(b.sockAPI).OpenContext(ctx)
	if err == nil {
		t.Fatal("OpenContext succeeded on a stalled body")
	}
	if ctx.Err() != nil {
		t.Fatalf("OpenContext returned only when the test's deadline ended it: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("OpenContext took %v, want about the gate's 200ms timeout", d)
	}
}
