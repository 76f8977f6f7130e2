// Command ipqsbot is a Slack bot that looks up IP addresses, URLs, domains and
// email addresses in IPQualityScore. It also offers the extractor and the
// lookups as terminal commands.
//
// Usage:
//
//	ipqsbot [run]                  start the bot
//	ipqsbot extract                print the indicators found in stdin as JSON lines
//	ipqsbot lookup [--json] IND…   look up indicators and print one line each
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"

	"github.com/ipqsbot/ipqsbot/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `Usage:
  ipqsbot [run]                       start the Slack bot
  ipqsbot extract                     read one message from stdin and print each
                                      indicator found as a JSON line
  ipqsbot lookup [--json] INDICATOR…  look up IPs, URLs, domains or emails and
                                      print one verdict line each
  ipqsbot help                        show this help

Settings come from environment variables, or from a .env file in the working
directory for variables the environment does not set. Required for run:
SLACK_APP_TOKEN, SLACK_BOT_TOKEN and IPQS_API_KEY; lookup needs IPQS_API_KEY.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr))
}

// run runs the subcommand in args and returns the exit code. main and the
// end-to-end tests call it.
func run(ctx context.Context, args []string, env config.Lookup, stdin io.Reader, stdout, stderr io.Writer) int {
	sub := "run"
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}

	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}

	env, err := config.WithDotEnv(env, ".env", func(path string) (map[string]string, error) { return godotenv.Read(path) })
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot: %v\n", err)
		return exitUsage
	}

	switch sub {
	case "run":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "ipqsbot: run takes no arguments, got %q\n\n%s", args, usage)
			return exitUsage
		}
		return runBot(ctx, env, stderr)
	case "lookup":
		return runLookup(ctx, args, env, stdout, stderr)
	case "extract":
		return runExtract(args, env, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ipqsbot: unknown command %q\n\n%s", sub, usage)
	return exitUsage
}

// loadConfig loads the configuration, or prints every problem to stderr.
func loadConfig(env config.Lookup, need config.Need, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(env, need)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot: invalid configuration:\n%s\n", indent(err.Error()))
		return nil, false
	}
	return cfg, true
}

// indent turns the lines of a joined error into a list.
func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}
