package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// echoHandler posts each message's text back to its channel and records
// the errors PostThread returned.
type echoHandler struct {
	reply handlers.Replier

	mu   sync.Mutex
	errs map[string]error
}

func (h *echoHandler) Command(context.Context, handlers.Command)     {}
func (h *echoHandler) CommandBusy(context.Context, handlers.Command) {}
func (h *echoHandler) EventBusy(context.Context, handlers.Event)     {}

func (h *echoHandler) Event(ctx context.Context, ev handlers.Event) {
	err := h.reply.PostThread(ctx, ev.Channel, "", formatter.Message{Text: ev.Text})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs[ev.Text] = err
}

func TestRateLimitedRepliesQueuedPerChannel(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	b, err := New(Config{
		AppToken: secret.New(sim.AppToken()), BotToken: secret.New(sim.BotToken()), APIURL: sim.APIURL(),
		// One worker keeps the messages in the order they were sent.
		Workers: 1, ReplyQueueSize: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.reply.posts.spacing = 10 * time.Millisecond
	h := &echoHandler{reply: b.Replier(), errs: make(map[string]error)}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx, h) }()
	if err := sim.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	// The first post gets a 429 with Retry-After 1 s: it starts C1's queue,
	// which takes two more replies and then refuses the fourth.
	sim.Set429(slacksim.MethodPostMessage, 1, time.Second)
	var ids []string
	for _, text := range []string{"m1", "m2", "m3", "m4"} {
		ids = append(ids, sim.Message("C1", "U1", text).EnvelopeID)
	}
	ids = append(ids, sim.Message("C2", "U1", "other").EnvelopeID)
	for _, id := range ids {
		if _, err := sim.WaitAck(ctx, id); err != nil {
			t.Fatalf("envelope %s not acknowledged: %v", id, err)
		}
	}

	posts, err := sim.WaitPosts(ctx, 4)
	if err != nil {
		t.Fatalf("posts: %v", err)
	}
	var got []string
	for _, p := range posts {
		got = append(got, p.Channel+":"+p.Text)
	}
	want := []string{"C2:other", "C1:m1", "C1:m2", "C1:m3"}
	if !slices.Equal(got, want) {
		t.Errorf("posts = %q, want %q: C2 at once, C1 after Retry-After and in order", got, want)
	}
	if wait := posts[1].At.Sub(posts[0].At); wait < 900*time.Millisecond {
		t.Errorf("C1's first reply came %v after C2's, want about the 1 s Retry-After", wait)
	}

	stopRun()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, text := range []string{"m1", "m2", "m3", "other"} {
		if h.errs[text] != nil {
			t.Errorf("PostThread(%s) = %v, want nil", text, h.errs[text])
		}
	}
	if _, ok := errors.AsType[*QueueFullError](h.errs["m4"]); !ok {
		t.Errorf("PostThread(m4) = %v, want a *QueueFullError", h.errs["m4"])
	}
}
