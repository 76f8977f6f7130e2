package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Defaults of the queue of replies that Slack rate-limited.
const (
	// DefaultReplyQueueSize bounds the replies waiting in one channel for
	// one method after Slack responded with HTTP 429.
	DefaultReplyQueueSize = 20
	// laneSpacing spaces the posts of a channel that Slack rate-limited:
	// chat.postMessage allows about one message per second per channel.
	laneSpacing = time.Second
	// maxLaneAttempts bounds the HTTP 429 responses one queued reply may get
	// before it is dropped.
	maxLaneAttempts = 5
)

// QueueFullError is returned for a reply that could not be posted or
// queued: Slack is rate-limiting the method in the channel, and the
// channel's queue is full.
type QueueFullError struct {
	Method  string
	Channel string
	// Queued is the number of replies waiting in the channel.
	Queued int
	// RetryAfter is how long Slack asked the bot to wait.
	RetryAfter time.Duration
}

func (e *QueueFullError) Error() string {
	return fmt.Sprintf("slack rate-limits %s in %s and %d replies are waiting: queue full",
		e.Method, e.Channel, e.Queued)
}

// UserMessage returns the sentence shown to the user in Slack.
func (e *QueueFullError) UserMessage() string {
	wait := e.RetryAfter + time.Duration(e.Queued)*laneSpacing
	return fmt.Sprintf("Slack is limiting how fast the bot may post in this channel, and %d answers are already waiting. Try again in %d s.",
		e.Queued, max(1, int((wait+time.Second-1)/time.Second)))
}

// sendFunc makes one attempt at posting to channel.
type sendFunc func(ctx context.Context, channel string, opts []slack.MsgOption) error

// outbox posts through one Web API method and honours Slack's HTTP 429
// responses per channel. A post to a channel that is not rate-limited goes
// out at once. When Slack responds with HTTP 429, the post joins the
// channel's lane, a bounded queue that one goroutine posts from, first
// after Retry-After and then one post per laneSpacing, until the lane is
// empty. Posts to a
// channel with a lane join it, so replies keep their order, and get a
// *QueueFullError when it is full. Other channels are not held up.
type outbox struct {
	method  string
	send    sendFunc
	size    int
	spacing time.Duration
	log     *slog.Logger
	metrics Metrics

	// ctx is the lanes' context. It outlives the callers' contexts, so a
	// reply queued during a shutdown is still posted; cancel ends it when
	// the drain times out.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	lanes map[string]*lane
	// queued counts the replies waiting in all lanes.
	queued int
	// closed is set by close: from then on no lane starts, and a post that
	// Slack rate-limits fails.
	closed bool
}

// lane holds the replies that wait for one channel.
type lane struct {
	// next is the earliest time of the lane's next post.
	next  time.Time
	queue []queuedPost
}

type queuedPost struct {
	opts []slack.MsgOption
	// limited counts the HTTP 429 responses the post received.
	limited int
	// onFail, when set, is called with the error of a queued post that
	// fails for good.
	onFail failFunc
}

// failFunc receives the error of a queued post that failed for good.
type failFunc func(ctx context.Context, err error)

func newOutbox(method string, send sendFunc, size int, log *slog.Logger, m Metrics) *outbox {
	ctx, cancel := context.WithCancel(context.Background())
	return &outbox{
		method: method, send: send, size: size, spacing: laneSpacing,
		log: log, metrics: m, ctx: ctx, cancel: cancel,
		lanes: make(map[string]*lane),
	}
}

// post posts opts to channel, or queues them when Slack is rate-limiting
// the channel. It returns nil once the post is made or queued. A queued
// post that fails later is logged and, when onFail is set, passed to it.
func (o *outbox) post(ctx context.Context, channel string, opts []slack.MsgOption, onFail failFunc) error {
	o.mu.Lock()
	if ln, ok := o.lanes[channel]; ok {
		defer o.mu.Unlock()
		return o.enqueueLocked(channel, ln, queuedPost{opts: opts, onFail: onFail}, 0)
	}
	o.mu.Unlock()

	err := o.send(ctx, channel, opts)
	rl, limited := errors.AsType[*slack.RateLimitedError](err)
	if !limited {
		return err
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	ln, ok := o.lanes[channel]
	if !ok {
		if o.closed {
			return err
		}
		ln = &lane{}
		o.lanes[channel] = ln
		o.wg.Go(func() { o.drain(channel, ln) })
		o.log.Warn("slack rate-limited replies in a channel: queueing them",
			"method", o.method, "channel", channel, "retry_after", rl.RetryAfter)
	}
	return o.enqueueLocked(channel, ln, queuedPost{opts: opts, limited: 1, onFail: onFail}, rl.RetryAfter)
}

// enqueueLocked adds p to ln, whose next post may not come before
// retryAfter from now. The caller holds o.mu.
func (o *outbox) enqueueLocked(channel string, ln *lane, p queuedPost, retryAfter time.Duration) error {
	now := time.Now()
	if until := now.Add(min(retryAfter, maxRetryAfter)); until.After(ln.next) {
		ln.next = until
	}
	if len(ln.queue) >= o.size {
		return &QueueFullError{Method: o.method, Channel: channel, Queued: len(ln.queue), RetryAfter: ln.next.Sub(now)}
	}
	ln.queue = append(ln.queue, p)
	o.countLocked(1)
	return nil
}

// drain posts the replies of ln in order until it is empty, then removes
// it, so the channel's next post goes out at once.
func (o *outbox) drain(channel string, ln *lane) {
	for {
		o.mu.Lock()
		if len(ln.queue) == 0 {
			delete(o.lanes, channel)
			o.mu.Unlock()
			return
		}
		wait := time.Until(ln.next)
		if wait > 0 {
			o.mu.Unlock()
			if err := sleep(o.ctx, wait); err != nil {
				o.dropAll(channel, ln, err)
				return
			}
			continue
		}
		p := ln.queue[0]
		ln.queue[0] = queuedPost{}
		ln.queue = ln.queue[1:]
		o.countLocked(-1)
		o.mu.Unlock()

		err := o.send(o.ctx, channel, p.opts)

		o.mu.Lock()
		next := time.Now().Add(o.spacing)
		rl, limited := errors.AsType[*slack.RateLimitedError](err)
		if limited {
			p.limited++
			next = time.Now().Add(max(o.spacing, min(rl.RetryAfter, maxRetryAfter)))
		}
		retry := limited && p.limited < maxLaneAttempts
		if retry {
			ln.queue = append([]queuedPost{p}, ln.queue...)
			o.countLocked(1)
		}
		if next.After(ln.next) {
			ln.next = next
		}
		o.mu.Unlock()

		if err != nil && !retry {
			o.log.Error("queued reply failed: dropped", "method", o.method, "channel", channel,
				"rate_limited", p.limited, "err", err)
			o.notify([]queuedPost{p}, err)
		}
	}
}

// noticeTimeout bounds the telling of requesters whose replies were
// dropped, all of them together, so that a shutdown is not held up long.
const noticeTimeout = 2 * time.Second

// notify passes err to the onFail of each post in posts, with a context of
// its own: the lanes' context may have ended, as at shutdown.
func (o *outbox) notify(posts []queuedPost, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), noticeTimeout)
	defer cancel()
	for _, p := range posts {
		if p.onFail != nil {
			p.onFail(ctx, err)
		}
	}
}

// countLocked adds delta to the replies waiting and reports their number.
// The caller holds o.mu.
func (o *outbox) countLocked(delta int) {
	o.queued += delta
	o.metrics.ReplyQueue(o.method, o.queued)
}

// dropAll empties ln after its context ended, logs how many replies were
// lost, and passes the cause to their onFail functions.
func (o *outbox) dropAll(channel string, ln *lane, cause error) {
	o.mu.Lock()
	dropped := ln.queue
	ln.queue = nil
	o.countLocked(-len(dropped))
	delete(o.lanes, channel)
	o.mu.Unlock()
	o.log.Error("queued replies dropped", "method", o.method, "channel", channel, "dropped", len(dropped), "err", cause)
	o.notify(dropped, cause)
}

// close waits until the lanes are empty, or until deadline, when it drops
// what is left. It reports whether every queued reply was posted or failed
// on its own. post may still be called during and after close, but starts
// no lane: a reply that Slack rate-limits then fails.
func (o *outbox) close(deadline time.Time) bool {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()

	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		o.cancel()
		<-done
		return false
	}
}
