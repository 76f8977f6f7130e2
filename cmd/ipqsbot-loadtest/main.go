// Command ipqsbot-loadtest measures the real ipqsbot under a steady stream
// of pasted channel messages. It builds the bot without the race detector
// and runs it as a child process against the local Slack simulator and the
// local IPQualityScore fake. It reports acknowledgement and reply latencies,
// IPQS calls per distinct indicator and the bot's peak resident memory.
// Every server listens on 127.0.0.1.
//
// Usage:
//
//	go run ./cmd/ipqsbot-loadtest [-rate N] [-duration D] [-channels N] [-distinct N] [-ipqs-latency D] [-bot PATH] [-json]
//
// It exits 0 when every event was acknowledged and answered, 1 otherwise,
// and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
)

// options are the parsed command-line flags.
type options struct {
	rate        int
	duration    time.Duration
	channels    int
	distinct    int
	ipqsLatency time.Duration
	botPath     string
	json        bool
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
	fs.IntVar(&opts.rate, "rate", 500, fmt.Sprintf("pasted-message events sent per second, 1 to %d", maxRate))
	fs.DurationVar(&opts.duration, "duration", 10*time.Second, fmt.Sprintf("how long events are sent, at most %v", maxDuration))
	fs.IntVar(&opts.channels, "channels", 100, fmt.Sprintf("number of channels the events are spread over, 1 to %d", maxChannels))
	fs.IntVar(&opts.distinct, "distinct", 200, fmt.Sprintf("number of distinct IP addresses the messages name, 1 to %d", maxDistinct))
	fs.DurationVar(&opts.ipqsLatency, "ipqs-latency", 200*time.Millisecond, fmt.Sprintf("delay of every IPQS fake response, 0 to %v", maxIPQSLatency))
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
	case opts.ipqsLatency < 0 || opts.ipqsLatency > maxIPQSLatency:
		return usageError(stderr, "invalid -ipqs-latency %v: want 0 to %v", opts.ipqsLatency, maxIPQSLatency)
	}
	return opts, nil
}

func usageError(stderr io.Writer, format string, args ...any) (options, error) {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(stderr, "ipqsbot-loadtest: %v\n", err)
	return options{}, err
}
