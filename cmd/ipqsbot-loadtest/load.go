package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/botproc"
	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

const (
	// drainTimeout bounds the wait for the last acks and replies after the
	// last event was sent.
	drainTimeout = 30 * time.Second

	// pollInterval is how often the drain checks for missing acks and
	// replies.
	pollInterval = 50 * time.Millisecond

	// seed fixes the order of indicators, so runs with the same flags send
	// the same messages.
	seed = 20261204
)

// sentEvent is one pasted message the tool sent.
type sentEvent struct {
	ref       slacksim.EventRef
	indicator string
	sentAt    time.Time
}

// runLoad starts the fakes and the bot, sends the events, waits for their
// acks and replies, stops the bot and returns the report. Progress lines go
// to progress.
func runLoad(ctx context.Context, opts options, progress io.Writer) (*report, error) {
	workDir, err := os.MkdirTemp("", "ipqsbot-loadtest-")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(workDir)

	botPath := opts.botPath
	if botPath == "" {
		fmt.Fprintln(progress, "building the bot (go build ./cmd/ipqsbot)…")
		if botPath, err = botproc.Build(ctx, workDir); err != nil {
			return nil, err
		}
	}

	sim := slacksim.New(slacksim.Options{AppToken: appToken, BotToken: botToken})
	defer sim.Close()
	fake := ipqsfake.New(ipqsKey)
	defer fake.Close()
	fake.SetLatency(opts.ipqsLatency)

	bot, err := startBot(botPath, workDir, sim.APIURL(), fake.URL())
	if err != nil {
		return nil, err
	}
	defer bot.kill()
	if err := bot.waitConnected(ctx, sim); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "bot connected (pid %d); sending %d events per second for %v…\n",
		bot.cmd.Process.Pid, opts.rate, opts.duration)

	events, sendTime := sendEvents(ctx, sim, opts)
	drained := waitDrained(ctx, sim, bot, events)

	rep := buildReport(opts, events, sendTime, sim.Acks(), sim.Posts(), fake.TotalCalls())
	rep.Drained = drained
	if !bot.running() {
		return nil, fmt.Errorf("the bot exited during the run with code %d. Last lines of its log:\n%s",
			bot.cmd.ProcessState.ExitCode(), bot.logTail())
	}
	if rss, err := bot.peakRSS(); err != nil {
		rep.PeakRSSError = err.Error()
	} else {
		rep.PeakRSSBytes = rss
	}

	code, err := bot.stop()
	rep.BotExitCode = code
	if err != nil {
		rep.BotStopError = err.Error()
	}
	return rep, nil
}

// indicators returns n distinct public IPv4 addresses in 45.83.0.0/16,
// which the bot looks up (no private, reserved or documentation range).
func indicators(n int) []string {
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf("45.83.%d.%d", i/250, i%250+1)
	}
	return list
}

// sendEvents sends opts.rate events per second for opts.duration, paced by
// a ticker, and stops early when ctx ends. Event i goes to channel
// i mod opts.channels and names an indicator drawn with a fixed seed. It
// returns the events and the time the sending took.
func sendEvents(ctx context.Context, sim *slacksim.Sim, opts options) ([]sentEvent, time.Duration) {
	total := int(int64(opts.rate) * int64(opts.duration) / int64(time.Second))
	if total < 1 {
		total = 1
	}
	pool := indicators(opts.distinct)
	random := rand.New(rand.NewPCG(seed, 0))
	channels := make([]string, opts.channels)
	for i := range channels {
		channels[i] = fmt.Sprintf("CLOAD%05d", i)
	}

	ticker := time.NewTicker(time.Second / time.Duration(opts.rate))
	defer ticker.Stop()
	// The deadline allows a 10% lag behind the ticker, which drops ticks
	// when the sender falls behind, before it cuts the run short.
	deadline := time.NewTimer(opts.duration + opts.duration/10)
	defer deadline.Stop()

	events := make([]sentEvent, 0, total)
	start := time.Now()
	for len(events) < total {
		select {
		case <-ctx.Done():
			return events, time.Since(start)
		case <-deadline.C:
			return events, time.Since(start)
		case <-ticker.C:
		}

		i := len(events)
		indicator := pool[random.IntN(len(pool))]
		text := fmt.Sprintf("traffic from %s again, load event %d", indicator, i)
		sentAt := time.Now()
		ref := sim.Message(channels[i%len(channels)], "", text)
		events = append(events, sentEvent{ref: ref, indicator: indicator, sentAt: sentAt})
	}
	return events, time.Since(start)
}

// waitDrained waits until every event is acked and answered, the bot has
// exited, ctx ends or drainTimeout passes. It reports whether everything
// arrived.
func waitDrained(ctx context.Context, sim *slacksim.Sim, bot *botProcess, events []sentEvent) bool {
	deadline := time.Now().Add(drainTimeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		acked, answered := countArrived(events, sim.Acks(), sim.Posts())
		if acked == len(events) && answered == len(events) {
			return true
		}
		if !bot.running() || time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-ticker.C:
		}
	}
}

// countArrived returns how many of events have an ack and a threaded reply.
func countArrived(events []sentEvent, acks []slacksim.Ack, posts []slacksim.Post) (acked, answered int) {
	ackByEnvelope := indexAcks(acks)
	replyByMessage := indexReplies(posts)
	for _, ev := range events {
		if _, ok := ackByEnvelope[ev.ref.EnvelopeID]; ok {
			acked++
		}
		if _, ok := replyByMessage[messageKey{ev.ref.Channel, ev.ref.TS}]; ok {
			answered++
		}
	}
	return acked, answered
}

// messageKey identifies a Slack message by channel and ts.
type messageKey struct {
	channel string
	ts      string
}

// indexAcks maps each envelope id to its first ack.
func indexAcks(acks []slacksim.Ack) map[string]slacksim.Ack {
	index := make(map[string]slacksim.Ack, len(acks))
	for _, ack := range acks {
		if _, seen := index[ack.EnvelopeID]; !seen {
			index[ack.EnvelopeID] = ack
		}
	}
	return index
}

// indexReplies maps each thread (channel and parent ts) to the first
// chat.postMessage posted into it.
func indexReplies(posts []slacksim.Post) map[messageKey]slacksim.Post {
	index := make(map[messageKey]slacksim.Post, len(posts))
	for _, post := range posts {
		if post.Method != slacksim.MethodPostMessage || post.ThreadTS == "" {
			continue
		}
		key := messageKey{post.Channel, post.ThreadTS}
		if _, seen := index[key]; !seen {
			index[key] = post
		}
	}
	return index
}
