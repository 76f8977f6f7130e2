package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// echoHandler posts each message's text back to its channel and records
// the errors PostThread returned. With tell set, the sender is the
// requester.
type echoHandler struct {
	reply handlers.Replier
	tell  bool

	mu   sync.Mutex
	errs map[string]error
}

func (h *echoHandler) Command(context.Context, handlers.Command)     {}
func (h *echoHandler) CommandBusy(context.Context, handlers.Command) {}
func (h *echoHandler) EventBusy(context.Context, handlers.Event)     {}

func (h *echoHandler) Event(ctx context.Context, ev handlers.Event) {
	var requester string
	if h.tell {
		requester = ev.User
	}
	err := h.reply.PostThread(ctx, ev.Channel, "", requester, formatter.Message{Text: ev.Text})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs[ev.Text] = err
}

// runEcho runs a Bot with cfg against sim, after tune has adjusted it, with
// an echoHandler, and waits until it connects. It returns a context that
// ends with the test's time budget, and stop, which ends Run and fails the
// test if Run failed.
func runEcho(t *testing.T, sim *slacksim.Sim, cfg Config, tell bool, tune func(*Bot)) (*echoHandler, context.Context, func()) {
	t.Helper()
	cfg.AppToken = secret.New(sim.AppToken())
	cfg.BotToken = secret.New(sim.BotToken())
	cfg.APIURL = sim.APIURL()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(b)
	}
	h := &echoHandler{reply: b.Replier(), tell: tell, errs: make(map[string]error)}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx, h) }()
	if err := sim.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		t.Helper()
		stopRun()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	return h, ctx, stop
}

func TestRateLimitedRepliesQueuedPerChannel(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	// One worker keeps the messages in the order they were sent.
	h, ctx, stop := runEcho(t, sim, Config{Workers: 1, ReplyQueueSize: 3}, false, func(b *Bot) {
		b.reply.posts.spacing = 10 * time.Millisecond
	})

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

	stop()
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

func TestRequesterToldOfFailedReplies(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	_, _, stop := runEcho(t, sim, Config{Workers: 1, ReplyQueueSize: 1}, true, nil)

	// Slack refuses every post in the channel. The first reply waits in
	// the queue until Slack has refused it maxLaneAttempts times; the
	// second finds the queue full.
	sim.Set429(slacksim.MethodPostMessage, 1000, time.Second)
	sim.Message("C1", "UALICE", "first")
	time.Sleep(100 * time.Millisecond)
	sim.Message("C1", "UBOB", "second")

	told := make(map[string]string)
	deadline := time.Now().Add(15 * time.Second)
	for len(told) < 2 && time.Now().Before(deadline) {
		for _, p := range sim.Posts() {
			if p.Method == slacksim.MethodPostEphemeral {
				told[p.User] = string(p.Blocks)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, user := range []string{"UALICE", "UBOB"} {
		blocks, ok := told[user]
		if !ok {
			t.Errorf("%s was not told that the reply failed; ephemeral messages: %v", user, told)
			continue
		}
		if !strings.Contains(blocks, "could not be posted") {
			t.Errorf("message to %s = %s, want it to say the answer could not be posted", user, blocks)
		}
	}
	if !strings.Contains(told["UBOB"], "answers are already waiting") {
		t.Errorf("message to UBOB = %s, want it to say the queue is full", told["UBOB"])
	}

	stop()
}
