// Command ipqsbot-playground runs the real ipqsbot against the local Slack
// simulator and the local IPQualityScore fake, and lets a developer play a
// Slack user from the terminal. It needs no Slack workspace, no IPQS key and
// no network: every server listens on 127.0.0.1.
//
// Usage:
//
//	go run ./cmd/ipqsbot-playground [-bot PATH] [-env NAME=VALUE]… [-log PATH] [-json] [-script FILE]
//
// Input lines, from stdin or the script:
//
//	/ipqs TEXT        a slash command; prints the reply posted to response_url
//	@ TEXT            a channel message that mentions the bot (also @ipqs TEXT)
//	dm TEXT           a direct message to the bot
//	paste TEXT        a plain channel message; any other line is one too
//	quit              stops the bot with SIGTERM; so does the end of the input
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const inputHelp = `Input lines:
  /ipqs TEXT     slash command; the reply comes through response_url
  @ TEXT         channel message that mentions the bot (also: @ipqs TEXT)
  dm TEXT        direct message to the bot
  paste TEXT     plain channel message; any other line is one too
  quit           stop the bot (so does the end of the input)
TEXT is sent as Slack sends it, so Slack markup such as <https://x.example|x.example> works.
`

// options are the parsed command-line flags.
type options struct {
	botPath    string
	logPath    string
	scriptPath string
	env        []string
	jsonBlocks bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args, starts the fakes and the bot, plays the input lines and
// returns the exit code. main and the tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage // parseFlags has printed the error
	}

	input, interactive := stdin, isTerminal(stdin)
	if opts.scriptPath != "" {
		f, err := os.Open(opts.scriptPath)
		if err != nil {
			fmt.Fprintf(stderr, "ipqsbot-playground: -script: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		input, interactive = f, false
	}

	s, err := start(ctx, opts, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot-playground: %v\n", err)
		return exitFailure
	}
	defer s.close()

	fmt.Fprint(stdout, inputHelp)
	s.play(ctx, input, interactive)
	return s.stop()
}

// parseFlags parses the command line into options. It prints every error
// to stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("ipqsbot-playground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.botPath, "bot", "", "path of an ipqsbot binary to run (default: build ./cmd/ipqsbot into a temporary directory)")
	fs.StringVar(&opts.logPath, "log", "", "file that receives the bot's logs (default: a new temporary file)")
	fs.StringVar(&opts.scriptPath, "script", "", "read input lines from this file instead of stdin")
	fs.BoolVar(&opts.jsonBlocks, "json", false, "print each reply's blocks as raw JSON instead of rendering them")
	fs.Func("env", "extra environment variable NAME=VALUE for the bot, such as AUTO_ENRICH_KINDS=url,ip (repeatable)", func(v string) error {
		name, _, ok := strings.Cut(v, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("invalid %q: write NAME=VALUE, for example AUTO_ENRICH_KINDS=url,ip", v)
		}
		opts.env = append(opts.env, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ipqsbot-playground [flags]\n\nRuns ipqsbot against a local Slack simulator and IPQS fake on 127.0.0.1.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", inputHelp)
	}

	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments %q: the input lines come from stdin or -script", fs.Args())
		fmt.Fprintf(stderr, "ipqsbot-playground: %v\n", err)
		return options{}, err
	}
	return opts, nil
}

// isTerminal reports whether r is a character device, such as a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
