package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/config"
)

// runExtract prints every indicator in stdin, read as one message, as a JSON
// line, marked skipped as the bot would skip it, NEVER_LOOKUP_DOMAINS
// included. It needs no credentials and exits 0 also when it finds nothing.
func runExtract(args []string, env config.Lookup, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ipqsbot: extract takes no arguments and reads stdin, got %q\n\n%s", args, usage)
		return exitUsage
	}
	never, err := config.NeverLookupDomains(env)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot: invalid configuration:\n%s\n", indent(err.Error()))
		return exitUsage
	}
	policy := guard.DomainPolicy{Never: never}

	text, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot: extract: read stdin: %v\n", err)
		return exitFailure
	}

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, ind := range indicator.Extract(string(text)) {
		// display is what the bot shows, so credentials in a URL are hidden
		// there as in replies; value keeps the input as it was.
		ind.Display = ind.SafeDisplay()
		if err := enc.Encode(policy.Check(ind)); err != nil {
			fmt.Fprintf(stderr, "ipqsbot: extract: write stdout: %v\n", err)
			return exitFailure
		}
	}
	return exitOK
}
