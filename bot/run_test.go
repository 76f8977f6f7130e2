package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// recordingHandler records calls and blocks Command until release closes.
type recordingHandler struct {
	release chan struct{}

	mu       sync.Mutex
	commands []string
	busy     []string
	events   []string
}

func (h *recordingHandler) Command(_ context.Context, cmd handlers.Command) {
	<-h.release
	h.mu.Lock()
	defer h.mu.Unlock()
	h.commands = append(h.commands, cmd.Text)
}

func (h *recordingHandler) CommandBusy(_ context.Context, cmd handlers.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.busy = append(h.busy, cmd.Text)
}

func (h *recordingHandler) Event(_ context.Context, ev handlers.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Type+" "+ev.EventID)
}

func (h *recordingHandler) EventBusy(context.Context, handlers.Event) {}

func (h *recordingHandler) snapshot() (commands, busy, events []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.commands...), append([]string(nil), h.busy...), append([]string(nil), h.events...)
}

func startRun(t *testing.T, sim *slacksim.Sim, h Handler, cfg Config) (stop func() error) {
	t.Helper()
	cfg.AppToken = secret.New(sim.AppToken())
	cfg.BotToken = secret.New(sim.BotToken())
	cfg.APIURL = sim.APIURL()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, h) }()

	wait, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelWait()
	if err := sim.WaitConnected(wait); err != nil {
		t.Fatalf("bot did not connect: %v", err)
	}
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
}

func TestRunQueueFullAnswersBusy(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	h := &recordingHandler{release: make(chan struct{})}
	stop := startRun(t, sim, h, Config{Workers: 1, QueueSize: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first command occupies the only worker and the second the only
	// queue slot, so the third finds no room.
	for _, text := range []string{"one", "two", "three"} {
		id := sim.SlashCommand(slacksim.SlashCommand{Text: text})
		if _, err := sim.WaitAck(ctx, id); err != nil {
			t.Fatalf("command %q not acknowledged: %v", text, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	close(h.release)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	commands, busy, _ := h.snapshot()
	if len(commands) != 2 || len(busy) != 1 || busy[0] != "three" {
		t.Errorf("handled %v, busy %v; want two handled and \"three\" answered busy", commands, busy)
	}
}

func TestRunAcknowledgesEverything(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	h := &recordingHandler{release: make(chan struct{})}
	close(h.release)
	stop := startRun(t, sim, h, Config{})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := []string{
		sim.SlashCommand(slacksim.SlashCommand{Text: "1.2.3.4"}),
		sim.Message("C1", "U1", "hello").EnvelopeID,
		sim.ButtonClick("C1", "U1", "action", "value"),
	}
	sim.Raw(`{"envelope_id":"raw-1","type":"events_api","payload":"not an object"}`)
	sim.Raw(`{"envelope_id":"raw-2","type":"unknown_type"}`)
	ids = append(ids, "raw-1", "raw-2")

	for _, id := range ids {
		ack, err := sim.WaitAck(ctx, id)
		if err != nil {
			t.Errorf("envelope %s not acknowledged: %v", id, err)
			continue
		}
		if len(ack.Payload) > 0 && string(ack.Payload) != "null" {
			t.Errorf("envelope %s acknowledged with payload %s, want none", id, ack.Payload)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	commands, _, events := h.snapshot()
	if len(commands) != 1 || len(events) != 1 {
		t.Errorf("commands %v, events %v; want one of each", commands, events)
	}
}

func TestRunRejectedAppToken(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	b, err := New(Config{
		AppToken: secret.New("xapp-1-revoked"),
		BotToken: secret.New(sim.BotToken()),
		APIURL:   sim.APIURL(),
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = b.Run(ctx, &recordingHandler{})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v, want an error before the timeout", err)
	}
}
