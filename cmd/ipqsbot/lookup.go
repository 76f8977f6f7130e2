package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/config"
	"github.com/ipqsbot/ipqsbot/internal/logging"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// lookupLine is one line of "ipqsbot lookup --json".
type lookupLine struct {
	Kind    indicator.Kind  `json:"kind"`
	Value   string          `json:"value"`
	Result  json.RawMessage `json:"result,omitempty"`
	Skipped string          `json:"skipped,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// runLookup looks up each argument and prints one line per indicator. It
// exits 1 when any lookup failed or was not made.
func runLookup(ctx context.Context, args []string, env config.Lookup, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per line: kind, value and the IPQualityScore result as received")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: ipqsbot lookup [--json] INDICATOR…\n\nINDICATOR is an IP address, URL, domain or email address, defanged or not.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(flagsFirst(args)); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ipqsbot: lookup needs at least one indicator, for example: ipqsbot lookup 185.220.101.4")
		return exitUsage
	}

	cfg, ok := loadConfig(env, config.NeedIPQS, stderr)
	if !ok {
		return exitUsage
	}
	// A terminal reads text more easily than JSON, so LOG_FORMAT applies
	// only when it is set.
	format := "text"
	if v, ok := env("LOG_FORMAT"); ok && v != "" {
		format = cfg.LogFormat
	}
	log := logging.New(stderr, format, cfg.LogLevel, cfg.IPQSKey)
	client := ipqs.New(ipqs.Config{BaseURL: cfg.IPQSBaseURL, Key: cfg.IPQSKey, Logger: log})

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	code := exitOK
	for _, arg := range fs.Args() {
		line := lookupOne(ctx, client, arg)
		if line.Error != "" || line.Skipped != "" {
			code = exitFailure
		}
		if *asJSON {
			if err := enc.Encode(line); err != nil {
				fmt.Fprintf(stderr, "ipqsbot: write stdout: %v\n", err)
				return exitFailure
			}
			continue
		}
		fmt.Fprintln(stdout, line.text)
	}
	return code
}

// lookupResult is a lookupLine with its human-readable form.
type lookupResult struct {
	lookupLine
	text string
}

func lookupOne(ctx context.Context, client *ipqs.Client, arg string) lookupResult {
	ind, err := indicator.Parse("", arg)
	if err != nil {
		return lookupResult{lookupLine{Value: arg, Error: err.Error()}, fmt.Sprintf("%s\terror: %v", arg, err)}
	}
	line := lookupLine{Kind: ind.Kind, Value: ind.Value}
	if ind.Skipped != "" {
		line.Skipped = ind.Skipped
		return lookupResult{line, fmt.Sprintf("%s\t%s\tnot looked up: %s", ind.SafeDisplay(), ind.Kind, ind.Skipped)}
	}

	res, err := client.Lookup(ctx, ipqs.Request{Kind: handlers.APIKind(ind.Kind), Value: ind.LookupValue()})
	if err != nil {
		line.Error = formatter.ErrorText(err)
		return lookupResult{line, fmt.Sprintf("%s\t%s\terror: %s", ind.SafeDisplay(), ind.Kind, line.Error)}
	}
	line.Result = res.Raw
	return lookupResult{line, strings.Join([]string{ind.SafeDisplay(), string(ind.Kind), formatter.Verdict(res), summary(res), "request_id=" + res.RequestID()}, "\t")}
}

// summary returns the score of res as name=value.
func summary(res *ipqs.Result) string {
	switch {
	case res.IP != nil:
		return fmt.Sprintf("fraud_score=%d", res.IP.FraudScore.Value)
	case res.URL != nil:
		return fmt.Sprintf("risk_score=%d", res.URL.RiskScore.Value)
	case res.Email != nil:
		return fmt.Sprintf("fraud_score=%d", res.Email.FraudScore.Value)
	}
	return ""
}

// flagsFirst returns args with the flags before the indicators, so that
// "lookup 1.2.3.4 --json" works as "lookup --json 1.2.3.4". Indicators never
// start with "-", and no flag of lookup takes a separate value; everything
// after "--" is an indicator.
func flagsFirst(args []string) []string {
	var flags, rest []string
	for i, arg := range args {
		if arg == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if strings.HasPrefix(arg, "-") && arg != "-" {
			flags = append(flags, arg)
		} else {
			rest = append(rest, arg)
		}
	}
	return append(flags, rest...)
}
