package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/ipqsbot/ipqsbot/indicator"
)

// runExtract prints every indicator in stdin, read as one message, as a JSON
// line. It needs no credentials and exits 0 also when it finds nothing.
func runExtract(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ipqsbot: extract takes no arguments and reads stdin, got %q\n\n%s", args, usage)
		return exitUsage
	}

	text, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ipqsbot: extract: read stdin: %v\n", err)
		return exitFailure
	}

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, ind := range indicator.Extract(string(text)) {
		if err := enc.Encode(ind); err != nil {
			fmt.Fprintf(stderr, "ipqsbot: extract: write stdout: %v\n", err)
			return exitFailure
		}
	}
	return exitOK
}
