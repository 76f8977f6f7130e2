package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// report is the outcome of one run. Latencies are in milliseconds.
type report struct {
	Rate          int     `json:"rate"`
	DurationS     float64 `json:"duration_s"`
	Channels      int     `json:"channels"`
	Distinct      int     `json:"distinct"`
	IPQSLatencyMS float64 `json:"ipqs_latency_ms"`

	Sent     int `json:"sent"`
	Acked    int `json:"acked"`
	Answered int `json:"answered"`
	// SendRate is the rate achieved: events sent per second of sending.
	SendRate float64 `json:"send_rate"`
	// Drained is false when the wait for the last acks and replies ended
	// before all of them arrived.
	Drained bool `json:"drained"`

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

	IPQSCalls         int     `json:"ipqs_calls"`
	DistinctSeen      int     `json:"distinct_seen"`
	CallsPerIndicator float64 `json:"calls_per_indicator"`

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

// complete reports whether every event sent was acked and answered.
func (r *report) complete() bool {
	return r.Sent > 0 && r.Acked == r.Sent && r.Answered == r.Sent
}

// buildReport matches events with their acks and replies and computes the
// figures. ipqsCalls is the IPQS fake's total call count.
func buildReport(opts options, events []sentEvent, sendTime time.Duration, acks []slacksim.Ack, posts []slacksim.Post, ipqsCalls int) *report {
	r := &report{
		Rate:          opts.rate,
		DurationS:     opts.duration.Seconds(),
		Channels:      opts.channels,
		Distinct:      opts.distinct,
		IPQSLatencyMS: milliseconds(opts.ipqsLatency),
		Sent:          len(events),
		IPQSCalls:     ipqsCalls,
	}
	if sendTime > 0 {
		r.SendRate = float64(len(events)) / sendTime.Seconds()
	}

	ackByEnvelope := indexAcks(acks)
	replyByMessage := indexReplies(posts)

	// firstReply holds, per indicator, when the reply to its first event
	// arrived. A zero time means that reply never arrived.
	firstReply := make(map[string]time.Time)
	var ackTimes, missTimes, inFlightTimes, hitTimes []time.Duration
	for _, ev := range events {
		if ack, ok := ackByEnvelope[ev.ref.EnvelopeID]; ok {
			r.Acked++
			ackTimes = append(ackTimes, ack.Latency)
		}

		reply, answered := replyByMessage[messageKey{ev.ref.Channel, ev.ref.TS}]
		firstReplyAt, seen := firstReply[ev.indicator]
		if !seen {
			firstReply[ev.indicator] = reply.At // zero when not answered
		}
		if !answered {
			continue
		}
		r.Answered++

		took := reply.At.Sub(ev.sentAt)
		switch {
		case !seen:
			missTimes = append(missTimes, took)
		case firstReplyAt.IsZero() || ev.sentAt.Before(firstReplyAt):
			inFlightTimes = append(inFlightTimes, took)
		default:
			hitTimes = append(hitTimes, took)
		}
	}

	r.Ack = summarise(ackTimes)
	r.ReplyMiss = summarise(missTimes)
	r.ReplyInFlight = summarise(inFlightTimes)
	r.ReplyHit = summarise(hitTimes)
	r.DistinctSeen = len(firstReply)
	if r.DistinctSeen > 0 {
		r.CallsPerIndicator = float64(ipqsCalls) / float64(r.DistinctSeen)
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

	_, err := fmt.Fprintf(w, `load: %d events/s for %gs over %d channels, %d distinct IPs, IPQS latency %gms
events: %d sent (%.0f/s achieved), %d acked, %d answered
ack latency:                %s
reply, first lookup:        %s
reply, lookup in flight:    %s
reply, cache hit:           %s
IPQS calls: %d for %d distinct indicators, %.2f per indicator
bot peak RSS (VmHWM): %s
bot exit code after SIGTERM: %s
`,
		r.Rate, r.DurationS, r.Channels, r.Distinct, r.IPQSLatencyMS,
		r.Sent, r.SendRate, r.Acked, r.Answered,
		formatLatency(r.Ack), formatLatency(r.ReplyMiss), formatLatency(r.ReplyInFlight), formatLatency(r.ReplyHit),
		r.IPQSCalls, r.DistinctSeen, r.CallsPerIndicator,
		rss, exit)
	if err != nil {
		return err
	}
	if !r.complete() {
		_, err = fmt.Fprintf(w, "FAIL: %d of %d events were not acked, %d not answered\n", r.Sent-r.Acked, r.Sent, r.Sent-r.Answered)
	}
	return err
}

func formatLatency(l latency) string {
	if l.Count == 0 {
		return "no events"
	}
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d events)", l.P50, l.P99, l.Max, l.Count)
}
