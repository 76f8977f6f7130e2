package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// report is the outcome of one run. Latencies are in milliseconds.
type report struct {
	Rate          int     `json:"rate"`
	DurationS     float64 `json:"duration_s"`
	Channels      int     `json:"channels"`
	Distinct      int     `json:"distinct"`
	RequestShare  int     `json:"request_percent"`
	IPQSLatencyMS float64 `json:"ipqs_latency_ms"`
	// IPQSFault is "", an HTTP status such as "503", or "timeout".
	IPQSFault string `json:"ipqs_fault,omitempty"`
	// Slack429 is how many chat.postMessage calls, from the first, the
	// simulator was set to reject with HTTP 429.
	Slack429 int `json:"slack_429"`
	// Workers is the bot's WORKERS setting; 0 is the bot's default.
	Workers int `json:"workers"`

	// Sent counts events: Pasted pasted messages, Mentions and Commands.
	Sent     int `json:"sent"`
	Pasted   int `json:"pasted"`
	Mentions int `json:"mentions"`
	Commands int `json:"commands"`
	// SendRate is the rate achieved: events sent per second of sending.
	SendRate float64 `json:"send_rate"`

	// EnvelopesSent counts every envelope the simulator created: one per
	// event and two per mention, which Slack sends as app_mention and
	// message. EnvelopesAcked counts those acknowledged, and EnvelopesLate
	// those acknowledged after Slack's 3 s.
	EnvelopesSent  int `json:"envelopes_sent"`
	EnvelopesAcked int `json:"envelopes_acked"`
	EnvelopesLate  int `json:"envelopes_late"`

	// Requests is Mentions plus Commands, and RequestsAnswered those with
	// a reply: a card, an error card or a busy notice.
	Requests         int `json:"requests"`
	RequestsAnswered int `json:"requests_answered"`
	// PastedAnswered counts pasted messages with a reply. While IPQS fails
	// the bot posts none, because every lookup of the message failed.
	// While Slack rate-limits, it drops those that overflow a channel's
	// queue of replies.
	PastedAnswered int `json:"pasted_answered"`
	// Answered is RequestsAnswered plus PastedAnswered.
	Answered int `json:"answered"`
	// AnsweredTwice counts events with more than one reply.
	AnsweredTwice int `json:"answered_twice"`
	// Drained is false when the wait for the last acks and replies ended
	// before all of them arrived.
	Drained bool `json:"drained"`

	// PostMessageCalls counts the bot's chat.postMessage calls, and
	// PostMessageRejected those not recorded as a post: the HTTP 429
	// responses, as the simulator rejects none of the bot's posts otherwise.
	PostMessageCalls    int `json:"post_message_calls"`
	PostMessageRejected int `json:"post_message_rejected"`

	// Ack covers the first ack of every envelope.
	Ack latency `json:"ack_latency_ms"`
	// ReplyMiss covers each indicator's first event, which needs an IPQS
	// call.
	ReplyMiss latency `json:"reply_miss_ms"`
	// ReplyInFlight covers later events sent before the indicator's first
	// reply, which wait for the call in flight.
	ReplyInFlight latency `json:"reply_in_flight_ms"`
	// ReplyHit covers events sent after the indicator's first reply, which
	// the cache answers.
	ReplyHit latency `json:"reply_hit_ms"`
	// ReplyRequest covers the first reply to every answered request, of
	// whatever class.
	ReplyRequest latency `json:"reply_request_ms"`

	// IPQSCalls counts every call the IPQS fake received, retries included.
	IPQSCalls         int     `json:"ipqs_calls"`
	DistinctSeen      int     `json:"distinct_seen"`
	CallsPerIndicator float64 `json:"calls_per_indicator"`

	// BotLogErrors counts the ERROR lines of the bot's log, and
	// BotLogFirstError is the first of them. When the log could not be
	// read, BotLogErrors is -1 and BotLogFirstError the reason.
	BotLogErrors     int    `json:"bot_log_errors"`
	BotLogFirstError string `json:"bot_log_first_error,omitempty"`
	// BotLogErrorsByMessage counts the ERROR lines by their msg.
	BotLogErrorsByMessage map[string]int `json:"bot_log_errors_by_msg,omitempty"`

	PeakRSSBytes int64  `json:"peak_rss_bytes"`
	PeakRSSError string `json:"peak_rss_error,omitempty"`
	BotExitCode  int    `json:"bot_exit_code"`
	BotStopError string `json:"bot_stop_error,omitempty"`
}

// latency summarises a set of durations, in milliseconds.
type latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// failures returns what went wrong in the run, one sentence each, or
// nothing: an envelope not acknowledged or acknowledged late, a request
// without a reply, a pasted message without a reply in a run without
// faults, or an event answered twice.
func (r *report) failures() []string {
	var list []string
	if r.Sent == 0 {
		list = append(list, "no event was sent")
	}
	if missing := r.EnvelopesSent - r.EnvelopesAcked; missing > 0 {
		list = append(list, fmt.Sprintf("%d of %d envelopes were never acknowledged", missing, r.EnvelopesSent))
	}
	if r.EnvelopesLate > 0 {
		list = append(list, fmt.Sprintf("%d of %d envelopes were acknowledged after Slack's 3 s", r.EnvelopesLate, r.EnvelopesSent))
	}
	if missing := r.Requests - r.RequestsAnswered; missing > 0 {
		list = append(list, fmt.Sprintf("%d of %d requests got no reply", missing, r.Requests))
	}
	if missing := r.Pasted - r.PastedAnswered; r.pastedRequired() && missing > 0 {
		list = append(list, fmt.Sprintf("%d of %d pasted messages got no reply", missing, r.Pasted))
	}
	if r.AnsweredTwice > 0 {
		list = append(list, fmt.Sprintf("%d of %d events got more than one reply", r.AnsweredTwice, r.Sent))
	}
	return list
}

// pastedRequired reports whether every pasted message must be answered:
// only in a run without faults. While IPQS fails the bot posts nothing
// under a pasted message, and while Slack rate-limits a channel it drops
// the replies to pasted messages that overflow the channel's queue.
func (r *report) pastedRequired() bool {
	return r.IPQSFault == "" && r.Slack429 == 0
}

// complete reports whether the run has no failures.
func (r *report) complete() bool { return len(r.failures()) == 0 }

// buildReport matches events with their envelopes' acks and their replies
// and computes the figures.
func buildReport(opts options, events []sentEvent, sendTime time.Duration, obs observed) *report {
	r := &report{
		Rate:          opts.rate,
		DurationS:     opts.duration.Seconds(),
		Channels:      opts.channels,
		Distinct:      opts.distinct,
		RequestShare:  opts.requests,
		IPQSLatencyMS: milliseconds(opts.ipqsLatency),
		IPQSFault:     opts.ipqsFault,
		Slack429:      opts.slack429,
		Workers:       opts.workers,
		Sent:          len(events),
		IPQSCalls:     obs.ipqsCalls,
	}
	if sendTime > 0 {
		r.SendRate = float64(len(events)) / sendTime.Seconds()
	}

	ackByEnvelope := indexAcks(obs.acks)
	var ackTimes []time.Duration
	for _, env := range obs.envelopes {
		r.EnvelopesSent++
		ack, ok := ackByEnvelope[env.ID]
		if !ok {
			continue
		}
		r.EnvelopesAcked++
		if ack.Late {
			r.EnvelopesLate++
		}
		ackTimes = append(ackTimes, ack.Latency)
	}

	r.PostMessageCalls = obs.postMessageCalls
	r.PostMessageRejected = obs.postMessageCalls
	for _, post := range obs.posts {
		if post.Method == slacksim.MethodPostMessage {
			r.PostMessageRejected--
		}
	}

	index := indexReplies(obs.posts)
	// firstReply holds, per indicator, when the reply to its first event
	// arrived. A zero time means that reply never arrived.
	firstReply := make(map[string]time.Time)
	var missTimes, inFlightTimes, hitTimes, requestTimes []time.Duration
	for _, ev := range events {
		switch ev.kind {
		case kindPasted:
			r.Pasted++
		case kindMention:
			r.Mentions++
		case kindCommand:
			r.Commands++
		}

		found := index.of(ev)
		reply, answered := found.first, found.count > 0
		firstReplyAt, seen := firstReply[ev.indicator]
		if !seen {
			firstReply[ev.indicator] = reply.At // zero when not answered
		}
		if !answered {
			continue
		}
		r.Answered++
		if ev.isRequest() {
			r.RequestsAnswered++
		} else {
			r.PastedAnswered++
		}
		if found.count > 1 {
			r.AnsweredTwice++
		}

		took := reply.At.Sub(ev.sentAt)
		if ev.isRequest() {
			requestTimes = append(requestTimes, took)
		}
		switch {
		case !seen:
			missTimes = append(missTimes, took)
		case firstReplyAt.IsZero() || ev.sentAt.Before(firstReplyAt):
			inFlightTimes = append(inFlightTimes, took)
		default:
			hitTimes = append(hitTimes, took)
		}
	}
	r.Requests = r.Mentions + r.Commands

	r.Ack = summarise(ackTimes)
	r.ReplyMiss = summarise(missTimes)
	r.ReplyInFlight = summarise(inFlightTimes)
	r.ReplyHit = summarise(hitTimes)
	r.ReplyRequest = summarise(requestTimes)
	r.DistinctSeen = len(firstReply)
	if r.DistinctSeen > 0 {
		r.CallsPerIndicator = float64(obs.ipqsCalls) / float64(r.DistinctSeen)
	}
	return r
}

// summarise returns the count, nearest-rank p50 and p99, and maximum of
// durations.
func summarise(durations []time.Duration) latency {
	if len(durations) == 0 {
		return latency{}
	}
	sorted := slices.Clone(durations)
	slices.Sort(sorted)
	return latency{
		Count: len(sorted),
		P50:   milliseconds(percentile(sorted, 50)),
		P99:   milliseconds(percentile(sorted, 99)),
		Max:   milliseconds(sorted[len(sorted)-1]),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted, which must
// not be empty.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// writeJSON writes r as one indented JSON object.
func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText writes r as lines for a terminal.
func writeText(w io.Writer, r *report) error {
	var rss string
	if r.PeakRSSError != "" {
		rss = "unknown (" + r.PeakRSSError + ")"
	} else {
		rss = fmt.Sprintf("%.1f MiB", float64(r.PeakRSSBytes)/(1<<20))
	}
	exit := fmt.Sprint(r.BotExitCode)
	if r.BotStopError != "" {
		exit += " (" + r.BotStopError + ")"
	}
	pastedNote := ""
	switch {
	case r.IPQSFault != "":
		pastedNote = " (none expected while IPQS fails)"
	case r.Slack429 > 0:
		pastedNote = " (replies that do not fit a full channel queue are dropped while Slack rate-limits)"
	}
	logErrors := fmt.Sprint(r.BotLogErrors)
	switch {
	case r.BotLogErrors < 0:
		logErrors = "unknown (" + r.BotLogFirstError + ")"
	case r.BotLogErrors > 0:
		logErrors += " (" + countsByMessage(r.BotLogErrorsByMessage) + "), the first: " + r.BotLogFirstError
	}

	_, err := fmt.Fprintf(w, `load: %d events/s for %gs over %d channels, IPs drawn from %d, %d%% requests, IPQS latency %gms
bot workers: %s
faults: %s
events: %d sent (%.0f/s achieved): %d pasted messages, %d mentions, %d slash commands
envelopes: %d sent, %d acked, %d acked after Slack's 3 s
requests: %d sent, %d answered
pasted messages: %d sent, %d answered%s
events answered more than once: %d
chat.postMessage: %d calls, %d rejected
ack latency:                %s
reply, first lookup:        %s
reply, lookup in flight:    %s
reply, cache hit:           %s
reply to a request:         %s
IPQS calls: %d for %d distinct indicators, %.2f per indicator
bot log ERROR lines: %s
bot peak RSS (VmHWM): %s
bot exit code after SIGTERM: %s
`,
		r.Rate, r.DurationS, r.Channels, r.Distinct, r.RequestShare, r.IPQSLatencyMS,
		describeWorkers(r.Workers), describeFaults(r),
		r.Sent, r.SendRate, r.Pasted, r.Mentions, r.Commands,
		r.EnvelopesSent, r.EnvelopesAcked, r.EnvelopesLate,
		r.Requests, r.RequestsAnswered,
		r.Pasted, r.PastedAnswered, pastedNote,
		r.AnsweredTwice,
		r.PostMessageCalls, r.PostMessageRejected,
		formatLatency(r.Ack, "envelopes"), formatLatency(r.ReplyMiss, "events"), formatLatency(r.ReplyInFlight, "events"),
		formatLatency(r.ReplyHit, "events"), formatLatency(r.ReplyRequest, "requests"),
		r.IPQSCalls, r.DistinctSeen, r.CallsPerIndicator,
		logErrors, rss, exit)
	if err != nil {
		return err
	}
	for _, failure := range r.failures() {
		if _, err := fmt.Fprintf(w, "FAIL: %s\n", failure); err != nil {
			return err
		}
	}
	return nil
}

// countsByMessage returns counts as "N × message" items, the most
// frequent first.
func countsByMessage(counts map[string]int) string {
	messages := make([]string, 0, len(counts))
	for msg := range counts {
		messages = append(messages, msg)
	}
	slices.SortFunc(messages, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	items := make([]string, len(messages))
	for i, msg := range messages {
		items[i] = fmt.Sprintf("%d × %s", counts[msg], msg)
	}
	return strings.Join(items, "; ")
}

// describeWorkers returns the bot's WORKERS setting in words.
func describeWorkers(n int) string {
	if n == 0 {
		return "the default"
	}
	return fmt.Sprint(n)
}

// describeFaults returns the faults of the run in words.
func describeFaults(r *report) string {
	var faults []string
	switch r.IPQSFault {
	case "":
	case faultTimeout:
		faults = append(faults, "IPQS never responds")
	default:
		faults = append(faults, "IPQS responds with HTTP "+r.IPQSFault)
	}
	if r.Slack429 > 0 {
		faults = append(faults, fmt.Sprintf("Slack rejects the first %d chat.postMessage calls with HTTP 429 and Retry-After: %d", r.Slack429, int(slackRetryAfter.Seconds())))
	}
	if len(faults) == 0 {
		return "none"
	}
	return strings.Join(faults, "; ")
}

// formatLatency returns l in words; unit names what was counted, such as
// "events".
func formatLatency(l latency, unit string) string {
	if l.Count == 0 {
		return "no " + unit
	}
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d %s)", l.P50, l.P99, l.Max, l.Count, unit)
}
