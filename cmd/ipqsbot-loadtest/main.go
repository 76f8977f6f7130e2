// Command ipqsbot-loadtest measures the real ipqsbot under a steady stream
// of pasted channel messages, mentions and /ipqs slash commands. It builds
// the bot without the race detector and runs it as a child process against
// the local Slack simulator and the local IPQualityScore fake, optionally
// with IPQS failing and Slack rejecting chat.postMessage calls with HTTP
// 429. It reports how many envelopes were acknowledged and how many
// requests were answered, acknowledgement and reply latencies, IPQS calls
// per distinct indicator and the bot's peak resident memory. Every server
// listens on 127.0.0.1.
//
// Usage:
//
//	go run ./cmd/ipqsbot-loadtest [-rate N] [-duration D] [-channels N] [-distinct N] [-requests PCT]
//		[-ipqs-latency D] [-ipqs-fault STATUS|timeout] [-slack-429 N] [-bot PATH] [-json]
//
// It exits 0 when every envelope was acknowledged within Slack's 3 s, every
// request was answered and no event more than once, and, in a run without
// faults, every pasted message was answered. It exits 1 otherwise, and 2 on
// a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Flag bounds. They keep one run to a few minutes and a few hundred
// thousand events.
const (
	maxRate        = 5000
	maxDuration    = 2 * time.Minute
	maxChannels    = 10000
	maxDistinct    = 60000
	maxIPQSLatency = 10 * time.Second
	maxSlack429    = 1_000_000
)

// faultTimeout is the -ipqs-fault value that makes IPQS never respond.
const faultTimeout = "timeout"

// options are the parsed command-line flags.
type options struct {
	rate        int
	duration    time.Duration
	channels    int
	distinct    int
	ipqsLatency time.Duration
	// requests is the percentage of events that are requests to the bot.
	requests int
	// ipqsFault is "", an HTTP status such as "503", or faultTimeout.
	ipqsFault string
	// ipqsStatus is ipqsFault as a number when it is an HTTP status.
	ipqsStatus int
	// slack429 is how many chat.postMessage calls, from the first, get
	// HTTP 429.
	slack429 int
	// workers is the bot's WORKERS setting; 0 leaves the bot's default.
	workers int
	botPath string
	json    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the load and writes the report to stdout. It
// returns the exit code; main and the tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage // parseFlags has printed the error
	}

	progress := stderr
	report, err := runLoad(ctx, opts, progress)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot-loadtest: %v\n", err)
		return exitFailure
	}

	if opts.json {
		err = writeJSON(stdout, report)
	} else {
		err = writeText(stdout, report)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot-loadtest: write report: %v\n", err)
		return exitFailure
	}

	if !report.complete() {
		return exitFailure
	}
	return exitOK
}

// parseFlags parses and checks the command line. Errors and help go to
// stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("ipqsbot-loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&opts.rate, "rate", 500, fmt.Sprintf("events sent per second, 1 to %d", maxRate))
	fs.DurationVar(&opts.duration, "duration", 10*time.Second, fmt.Sprintf("how long events are sent, at most %v", maxDuration))
	fs.IntVar(&opts.channels, "channels", 100, fmt.Sprintf("number of channels the events are spread over, 1 to %d", maxChannels))
	fs.IntVar(&opts.distinct, "distinct", 200, fmt.Sprintf("number of distinct IP addresses the messages name, 1 to %d", maxDistinct))
	fs.IntVar(&opts.requests, "requests", 10, "percentage of events that are requests to the bot, alternately mentions and /ipqs slash commands, 0 to 100; the rest are pasted channel messages")
	fs.DurationVar(&opts.ipqsLatency, "ipqs-latency", 200*time.Millisecond, fmt.Sprintf("delay of every IPQS fake response, 0 to %v", maxIPQSLatency))
	fs.StringVar(&opts.ipqsFault, "ipqs-fault", "", "make every IPQS call fail: an HTTP status from 400 to 599 sent with an empty body, or timeout for no response until the bot gives up, which overrides -ipqs-latency")
	fs.IntVar(&opts.slack429, "slack-429", 0, fmt.Sprintf("number of chat.postMessage calls, from the first, that Slack rejects with HTTP 429 and Retry-After: 1, 0 to %d", maxSlack429))
	fs.IntVar(&opts.workers, "workers", 0, "the bot's WORKERS setting, 1 to 1024; 0 leaves the bot's default")
	fs.StringVar(&opts.botPath, "bot", "", "path of a built ipqsbot binary; empty builds ./cmd/ipqsbot without -race")
	fs.BoolVar(&opts.json, "json", false, "write the report as one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ipqsbot-loadtest [flags]")
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case opts.rate < 1 || opts.rate > maxRate:
		return usageError(stderr, "invalid -rate %d: want 1 to %d events per second", opts.rate, maxRate)
	case opts.duration <= 0 || opts.duration > maxDuration:
		return usageError(stderr, "invalid -duration %v: want above 0 and at most %v", opts.duration, maxDuration)
	case opts.channels < 1 || opts.channels > maxChannels:
		return usageError(stderr, "invalid -channels %d: want 1 to %d", opts.channels, maxChannels)
	case opts.distinct < 1 || opts.distinct > maxDistinct:
		return usageError(stderr, "invalid -distinct %d: want 1 to %d", opts.distinct, maxDistinct)
	case opts.requests < 0 || opts.requests > 100:
		return usageError(stderr, "invalid -requests %d: want a percentage from 0 to 100", opts.requests)
	case opts.ipqsLatency < 0 || opts.ipqsLatency > maxIPQSLatency:
		return usageError(stderr, "invalid -ipqs-latency %v: want 0 to %v", opts.ipqsLatency, maxIPQSLatency)
	case opts.workers < 0 || opts.workers > 1024:
		return usageError(stderr, "invalid -workers %d: want 1 to 1024, or 0 for the bot's default", opts.workers)
	case opts.slack429 < 0 || opts.slack429 > maxSlack429:
		return usageError(stderr, "invalid -slack-429 %d: want 0 to %d calls", opts.slack429, maxSlack429)
	}
	if opts.ipqsFault != "" && opts.ipqsFault != faultTimeout {
		status, err := strconv.Atoi(opts.ipqsFault)
		if err != nil || status < 400 || status > 599 {
			return usageError(stderr, "invalid -ipqs-fault %q: want an HTTP status from 400 to 599, such as 503, or timeout", opts.ipqsFault)
		}
		opts.ipqsStatus = status
	}
	return opts, nil
}

func usageError(stderr io.Writer, format string, args ...any) (options, error) {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(stderr, "ipqsbot-loadtest: %v\n", err)
	return options{}, err
}
