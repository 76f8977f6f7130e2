package handlers

import (
	"fmt"
	"strings"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Action is what a parsed /ipqs command asks for.
type Action int

// The actions.
const (
	// ActionDetect looks up every indicator found in the text.
	ActionDetect Action = iota
	// ActionLookup looks up one indicator of an explicit kind with parameters.
	ActionLookup
	// ActionStatus checks the connection to IPQualityScore.
	ActionStatus
	// ActionHelp shows usage.
	ActionHelp
)

// ParsedCommand is the meaning of the text after /ipqs.
type ParsedCommand struct {
	Action Action
	// Text is the text searched for indicators, for ActionDetect.
	Text string
	// Kind, Value and Params describe an explicit lookup, for ActionLookup.
	Kind      ipqs.Kind
	Indicator indicator.Indicator
	Params    ipqs.Params
}

// UsageError is a command that cannot be run as written. Its message is fit
// to show to the user.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ParseCommand reads the text of an /ipqs command:
//
//	(empty) or help                 usage
//	status                          connectivity check
//	ip|url|email VALUE [name=value…] explicit lookup with API parameters
//	anything else                   every indicator found in the text
//
// Parameter values may be quoted with double quotes. Unknown parameters and
// out-of-range values are reported as a *UsageError before any lookup.
func ParseCommand(text string) (ParsedCommand, error) {
	text = strings.TrimSpace(text)
	first, rest, _ := strings.Cut(text, " ")

	switch strings.ToLower(first) {
	case "", "help", "-h", "--help", "usage":
		return ParsedCommand{Action: ActionHelp}, nil
	case "status":
		if strings.TrimSpace(rest) != "" {
			return ParsedCommand{}, usageErrorf("status takes no arguments: send /ipqs status on its own")
		}
		return ParsedCommand{Action: ActionStatus}, nil
	case "ip":
		return parseExplicit(ipqs.KindIP, indicator.KindIP, rest)
	case "url":
		return parseExplicit(ipqs.KindURL, indicator.KindURL, rest)
	case "email":
		return parseExplicit(ipqs.KindEmail, indicator.KindEmail, rest)
	}
	return ParsedCommand{Action: ActionDetect, Text: text}, nil
}

func parseExplicit(kind ipqs.Kind, ikind indicator.Kind, rest string) (ParsedCommand, error) {
	args, err := splitArgs(rest)
	if err != nil {
		return ParsedCommand{}, err
	}
	if len(args) == 0 {
		return ParsedCommand{}, usageErrorf("%s needs a value to look up, for example /ipqs %s", kind, example(kind))
	}

	ind, err := indicator.Parse(ikind, args[0])
	if err != nil {
		return ParsedCommand{}, &UsageError{Msg: err.Error()}
	}

	cmd := ParsedCommand{Action: ActionLookup, Kind: kind, Indicator: ind, Params: ipqs.Params{}}
	for _, arg := range args[1:] {
		name, value, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			return ParsedCommand{}, usageErrorf("%q is not a parameter: write parameters as name=value after the %s, for example /ipqs %s strictness=1", arg, kind, example(kind))
		}
		name = strings.ToLower(name)
		if _, dup := cmd.Params[name]; dup {
			return ParsedCommand{}, usageErrorf("%s is given twice: give each parameter once", name)
		}
		if err := cmd.Params.Set(kind, name, unescape(value)); err != nil {
			return ParsedCommand{}, &UsageError{Msg: err.Error()}
		}
	}
	return cmd, nil
}

func example(kind ipqs.Kind) string {
	switch kind {
	case ipqs.KindIP:
		return "ip 185.220.101.4"
	case ipqs.KindURL:
		return "url hxxps://login-example[.]com/x"
	}
	return "email user@example.com"
}

// splitArgs splits s on spaces, keeping double-quoted runs (straight or
// curly quotes, which some keyboards type) together without the quotes.
func splitArgs(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inQuote bool
		started bool
	)
	for _, r := range s {
		switch {
		case r == '"' || r == '“' || r == '”':
			inQuote = !inQuote
			started = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if inQuote {
		return nil, usageErrorf("a double quote is not closed: end the quoted value with a second double quote")
	}
	if started {
		args = append(args, cur.String())
	}
	return args, nil
}

// unescape undoes Slack's escaping of &, < and > in command text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
