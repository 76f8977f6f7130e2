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

	// timeoutDrainTimeout replaces drainTimeout while IPQS never responds.
	// The bot gives up on an IP lookup after three attempts of 10 s each
	// plus backoff, about 31 s, and only then replies to the first requests.
	timeoutDrainTimeout = 75 * time.Second

	// ipqsHang is the IPQS fake's delay for -ipqs-fault timeout. It exceeds
	// every deadline of the bot's IPQS client, so each call ends when the
	// bot gives up.
	ipqsHang = 10 * time.Minute

	// slackRetryAfter is the Retry-After of the simulator's HTTP 429
	// responses to chat.postMessage.
	slackRetryAfter = time.Second

	// pollInterval is how often the drain checks for missing acks and
	// replies.
	pollInterval = 50 * time.Millisecond

	// seed fixes the order of indicators, so runs with the same flags send
	// the same messages.
	seed = 20261204
)

// eventKind is the role of a sent event: a pasted message, which the bot
// may reply to, or a request, which must get a reply.
type eventKind string

const (
	kindPasted  eventKind = "pasted"
	kindMention eventKind = "mention"
	kindCommand eventKind = "command"
)

// sentEvent is one event the tool sent. For a mention, ref is the
// app_mention event, and the message event's envelope is not kept. For a
// slash command, ref holds the envelope id and the channel only. Every
// request has a user of its own, so an ephemeral message to that user is a
// reply to that request only.
type sentEvent struct {
	kind      eventKind
	ref       slacksim.EventRef
	user      string
	indicator string
	sentAt    time.Time
}

// isRequest reports whether the event is a request, which must get a reply.
func (ev sentEvent) isRequest() bool { return ev.kind != kindPasted }

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
	switch {
	case opts.ipqsFault == faultTimeout:
		fake.SetLatency(ipqsHang)
	case opts.ipqsStatus != 0:
		fake.SetFault(opts.ipqsStatus)
	}
	if opts.slack429 > 0 {
		sim.Set429(slacksim.MethodPostMessage, opts.slack429, slackRetryAfter)
	}

	bot, err := startBot(botPath, workDir, sim.APIURL(), fake.URL(), opts.workers)
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
	timeout := drainTimeout
	if opts.ipqsFault == faultTimeout {
		timeout = timeoutDrainTimeout
	}
	drained := waitDrained(ctx, sim, bot, events, opts.ipqsFault == "", timeout)

	rep := buildReport(opts, events, sendTime, observe(sim, fake))
	rep.Drained = drained
	rep.BotLogErrors, rep.BotLogFirstError, rep.BotLogErrorsByMessage = bot.logErrors()
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
// a ticker, and stops early when ctx ends. Each event names an indicator
// drawn with a fixed seed. opts.requests percent of the events, evenly
// spread, are requests: mentions and slash commands in turn. The pasted
// messages go round the channels in order, and so do the requests. It
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
	requests := 0
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
		ev := sentEvent{kind: kindPasted, indicator: pool[random.IntN(len(pool))], sentAt: time.Now()}
		// Pasted messages and requests each go round the channels, so that
		// requests, which fall on every tenth event or so, do not all land
		// in the few channels that share that period.
		channel := channels[(i-requests)%len(channels)]
		if isRequestSlot(i, opts.requests) {
			ev.kind = kindMention
			if requests%2 == 1 {
				ev.kind = kindCommand
			}
			ev.user = fmt.Sprintf("ULOAD%07d", i)
			channel = channels[requests%len(channels)]
			requests++
		}
		switch ev.kind {
		case kindPasted:
			ev.ref = sim.Message(channel, ev.user, fmt.Sprintf("traffic from %s again, load event %d", ev.indicator, i))
		case kindMention:
			ev.ref = sim.Mention(channel, ev.user, fmt.Sprintf("is %s bad? load event %d", ev.indicator, i)).AppMention
		case kindCommand:
			id := sim.SlashCommand(slacksim.SlashCommand{Text: ev.indicator, ChannelID: channel, UserID: ev.user})
			ev.ref = slacksim.EventRef{EnvelopeID: id, Channel: channel}
		}
		events = append(events, ev)
	}
	return events, time.Since(start)
}

// isRequestSlot reports whether event i is a request when percent of all
// events are. The requests fall evenly: with 10 percent, every tenth event.
func isRequestSlot(i, percent int) bool {
	return i*percent%100 < percent
}

// waitDrained waits until every envelope is acked and every request
// answered, and every pasted message too when pastedAnswered, or until the
// bot has exited, ctx ends or timeout passes. It reports whether everything
// arrived.
func waitDrained(ctx context.Context, sim *slacksim.Sim, bot *botProcess, events []sentEvent, pastedAnswered bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if arrived(sim, events, pastedAnswered) {
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

// arrived reports whether every envelope the simulator created has an ack,
// every request a reply, and every pasted message one too when
// pastedAnswered.
func arrived(sim *slacksim.Sim, events []sentEvent, pastedAnswered bool) bool {
	for _, env := range sim.Envelopes() {
		if !env.Acked {
			return false
		}
	}
	replies := indexReplies(sim.Posts())
	for _, ev := range events {
		if (ev.isRequest() || pastedAnswered) && replies.of(ev).count == 0 {
			return false
		}
	}
	return true
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

// replies are the posts that reply to one event: the first and how many.
type replies struct {
	first slacksim.Post
	count int
}

// replyIndex finds the replies to events: chat.postMessage posts by thread
// (channel and parent ts), response_url posts by slash command envelope,
// and chat.postEphemeral posts by channel and user. The bot sends an
// ephemeral message to a mention's sender when it cannot post the reply
// in the thread.
type replyIndex struct {
	threads    map[messageKey]replies
	responses  map[string]replies
	ephemerals map[messageKey]replies // keyed by channel and user
}

func indexReplies(posts []slacksim.Post) replyIndex {
	index := replyIndex{
		threads:    make(map[messageKey]replies),
		responses:  make(map[string]replies),
		ephemerals: make(map[messageKey]replies),
	}
	add := func(r replies, post slacksim.Post) replies {
		if r.count == 0 {
			r.first = post
		}
		r.count++
		return r
	}
	for _, post := range posts {
		switch {
		case post.Method == slacksim.MethodPostMessage && post.ThreadTS != "":
			key := messageKey{post.Channel, post.ThreadTS}
			index.threads[key] = add(index.threads[key], post)
		case post.Method == slacksim.MethodResponseURL && post.EnvelopeID != "":
			index.responses[post.EnvelopeID] = add(index.responses[post.EnvelopeID], post)
		case post.Method == slacksim.MethodPostEphemeral:
			key := messageKey{post.Channel, post.User}
			index.ephemerals[key] = add(index.ephemerals[key], post)
		}
	}
	return index
}

// of returns the replies to ev.
func (x replyIndex) of(ev sentEvent) replies {
	switch ev.kind {
	case kindCommand:
		return x.responses[ev.ref.EnvelopeID]
	case kindMention:
		found := x.threads[messageKey{ev.ref.Channel, ev.ref.TS}]
		if notice, ok := x.ephemerals[messageKey{ev.ref.Channel, ev.user}]; ok {
			if found.count == 0 {
				found.first = notice.first
			}
			found.count += notice.count
		}
		return found
	}
	return x.threads[messageKey{ev.ref.Channel, ev.ref.TS}]
}

// observed is the fakes' record of a run.
type observed struct {
	envelopes []slacksim.Envelope
	acks      []slacksim.Ack
	posts     []slacksim.Post
	ipqsCalls int
	// postMessageCalls counts every chat.postMessage call, those rejected
	// with HTTP 429 included.
	postMessageCalls int
}

func observe(sim *slacksim.Sim, fake *ipqsfake.Server) observed {
	return observed{
		envelopes:        sim.Envelopes(),
		acks:             sim.Acks(),
		posts:            sim.Posts(),
		ipqsCalls:        fake.TotalCalls(),
		postMessageCalls: sim.Calls(slacksim.MethodPostMessage),
	}
}
