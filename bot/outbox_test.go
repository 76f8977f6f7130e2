package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// fakeSlack stands in for chat.postMessage: it rejects the next
// limited[channel] posts of a channel with HTTP 429 and records the others.
type fakeSlack struct {
	retryAfter time.Duration

	mu      sync.Mutex
	limited map[string]int
	posted  []string // "channel:text"
	calls   int
}

func (f *fakeSlack) send(_ context.Context, channel string, opts []slack.MsgOption) error {
	_, values, err := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.limited[channel] > 0 {
		f.limited[channel]--
		return &slack.RateLimitedError{RetryAfter: f.retryAfter}
	}
	f.posted = append(f.posted, channel+":"+values.Get("text"))
	return nil
}

func (f *fakeSlack) limit(channel string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limited == nil {
		f.limited = make(map[string]int)
	}
	f.limited[channel] = n
}

func (f *fakeSlack) posts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posted)
}

func text(s string) []slack.MsgOption { return []slack.MsgOption{slack.MsgOptionText(s, false)} }

func newTestOutbox(t *testing.T, f *fakeSlack, size int) *outbox {
	o := newOutbox(methodPostMessage, f.send, size, slog.New(slog.DiscardHandler), noMetrics{})
	o.spacing = time.Millisecond
	t.Cleanup(func() { o.close(time.Now()) })
	return o
}

func (f *fakeSlack) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// waitPosts polls until f holds n posts or a second has passed.
func waitPosts(t *testing.T, f *fakeSlack, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := f.posts()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOutboxQueuesRateLimitedChannelOnly(t *testing.T) {
	f := &fakeSlack{retryAfter: 200 * time.Millisecond}
	f.limit("CBUSY", 1)
	o := newTestOutbox(t, f, 10)
	ctx := context.Background()

	for _, p := range []struct{ channel, text string }{
		{"CBUSY", "b1"}, {"CBUSY", "b2"}, {"CQUIET", "q1"}, {"CBUSY", "b3"},
	} {
		if err := o.post(ctx, p.channel, text(p.text), nil); err != nil {
			t.Fatalf("post %s to %s: %v", p.text, p.channel, err)
		}
	}
	// The quiet channel is not held up by the rate-limited one.
	if got := f.posts(); !slices.Equal(got, []string{"CQUIET:q1"}) {
		t.Fatalf("posts before Retry-After = %q, want only CQUIET:q1", got)
	}

	got := waitPosts(t, f, 4)
	want := []string{"CQUIET:q1", "CBUSY:b1", "CBUSY:b2", "CBUSY:b3"}
	if !slices.Equal(got, want) {
		t.Errorf("posts = %q, want %q: the rate-limited channel's replies in order", got, want)
	}
	if !o.close(time.Now().Add(time.Second)) {
		t.Error("close dropped replies")
	}
}

func TestOutboxFullQueueTellsTheCaller(t *testing.T) {
	f := &fakeSlack{retryAfter: 2 * time.Second}
	f.limit("C1", 1)
	o := newTestOutbox(t, f, 3)
	ctx := context.Background()

	for i := range 3 {
		if err := o.post(ctx, "C1", text("r"), nil); err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
	}
	err := o.post(ctx, "C1", text("r4"), nil)
	full, ok := errors.AsType[*QueueFullError](err)
	if !ok {
		t.Fatalf("fourth post: err = %v, want a *QueueFullError", err)
	}
	if full.Queued != 3 || full.Channel != "C1" || full.Method != methodPostMessage {
		t.Errorf("error = %+v, want 3 queued replies of chat.postMessage in C1", full)
	}
	if msg := full.UserMessage(); !strings.Contains(msg, "3 answers are already waiting") || !strings.Contains(msg, "Try again in 5 s") {
		t.Errorf("user message = %q, want the queue length and a wait of 2 s plus 3 posts", msg)
	}
	if calls := f.callCount(); calls != 1 {
		t.Errorf("Slack calls = %d, want 1: queued replies wait for Retry-After", calls)
	}
}

func TestOutboxRetriesBoundedTimes(t *testing.T) {
	f := &fakeSlack{retryAfter: time.Millisecond}
	f.limit("C1", 100)
	o := newTestOutbox(t, f, 3)

	var failures []error
	onFail := func(_ context.Context, err error) { failures = append(failures, err) }
	if err := o.post(context.Background(), "C1", text("r"), onFail); err != nil {
		t.Fatal(err)
	}
	if !o.close(time.Now().Add(5 * time.Second)) {
		t.Fatal("close timed out")
	}
	if calls := f.callCount(); calls != maxLaneAttempts {
		t.Errorf("Slack calls = %d, want %d: a reply Slack keeps refusing is dropped", calls, maxLaneAttempts)
	}
	if len(failures) != 1 {
		t.Fatalf("onFail called %d times, want once", len(failures))
	}
	if _, ok := errors.AsType[*slack.RateLimitedError](failures[0]); !ok {
		t.Errorf("onFail got %v, want the 429 error", failures[0])
	}
}

func TestOutboxCloseWaitsThenDrops(t *testing.T) {
	t.Run("drained", func(t *testing.T) {
		f := &fakeSlack{retryAfter: 100 * time.Millisecond}
		f.limit("C1", 1)
		o := newTestOutbox(t, f, 5)
		for range 3 {
			if err := o.post(context.Background(), "C1", text("r"), nil); err != nil {
				t.Fatal(err)
			}
		}
		if !o.close(time.Now().Add(5 * time.Second)) {
			t.Error("close dropped replies")
		}
		if got := len(f.posts()); got != 3 {
			t.Errorf("posts = %d, want 3: close waits for the queue", got)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		f := &fakeSlack{retryAfter: 10 * time.Second}
		f.limit("C1", 1)
		o := newTestOutbox(t, f, 5)

		var mu sync.Mutex
		notified := 0
		onFail := func(ctx context.Context, _ error) {
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() == nil {
				notified++
			}
		}

		for range 3 {
			if err := o.post(context.Background(), "C1", text("r"), onFail); err != nil {
				t.Fatal(err)
			}
		}
		if o.close(time.Now().Add(50 * time.Millisecond)) {
			t.Error("close reported no drops, but Retry-After outlasted the deadline")
		}

		mu.Lock()
		if notified != 3 {
			t.Errorf("requesters notified with a live context = %d, want 3, one per dropped reply", notified)
		}
		mu.Unlock()

		// After close, a rate-limited post starts no lane and fails.
		f.limit("C2", 1)
		err := o.post(context.Background(), "C2", text("late"), nil)
		if _, ok := errors.AsType[*slack.RateLimitedError](err); !ok {
			t.Errorf("post after close: err = %v, want the 429 error", err)
		}
	})
}

func TestOutboxLaneEndsWhenDrained(t *testing.T) {
	f := &fakeSlack{retryAfter: 10 * time.Millisecond}
	f.limit("C1", 1)
	o := newTestOutbox(t, f, 5)
	if err := o.post(context.Background(), "C1", text("r1"), nil); err != nil {
		t.Fatal(err)
	}
	waitPosts(t, f, 1)
	o.wg.Wait()

	// With the lane gone, the next post goes out at once.
	if err := o.post(context.Background(), "C1", text("r2"), nil); err != nil {
		t.Fatal(err)
	}
	if got := f.posts(); !slices.Equal(got, []string{"C1:r1", "C1:r2"}) {
		t.Errorf("posts = %q, want C1:r1 then C1:r2 at once", got)
	}
}

// queueGauge records the reply queue sizes that an outbox reports.
type queueGauge struct {
	noMetrics
	mu     sync.Mutex
	values []int
}

func (g *queueGauge) ReplyQueue(_ string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.values = append(g.values, n)
}

func TestOutboxReportsQueueSize(t *testing.T) {
	f := &fakeSlack{retryAfter: 20 * time.Millisecond}
	f.limit("C1", 1)
	g := &queueGauge{}
	o := newOutbox(methodPostMessage, f.send, 5, slog.New(slog.DiscardHandler), g)
	o.spacing = time.Millisecond
	for range 3 {
		if err := o.post(context.Background(), "C1", text("r"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if !o.close(time.Now().Add(5 * time.Second)) {
		t.Fatal("close dropped replies")
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.values) == 0 || slices.Max(g.values) != 3 || g.values[len(g.values)-1] != 0 {
		t.Errorf("reported sizes %v, want a peak of 3 and a last value of 0", g.values)
	}
}
