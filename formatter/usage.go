package formatter

import (
	"strings"

	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

// Usage renders the help text: every form of the command with an example,
// and the optional parameters of each lookup. Examples are code spans, so
// Slack does not link them.
func Usage() Message {
	lookups := strings.Join([]string{
		"*Look up indicators*",
		Code("/ipqs 185.220.101.4") + " an IP address",
		Code("/ipqs hxxps://login-example[.]com/x") + " a URL or domain; defanged forms work too",
		Code("/ipqs user@example.com") + " an email address",
		Code("/ipqs 185.220.101.4 login-example[.]com user@example.com") + " several at once",
	}, "\n")

	forms := []string{"*Choose the lookup and set parameters*"}
	for _, f := range []struct {
		kind    ipqs.Kind
		command string
	}{
		{ipqs.KindIP, "/ipqs ip ADDR [params]"},
		{ipqs.KindURL, "/ipqs url URL [params]"},
		{ipqs.KindEmail, "/ipqs email ADDR [params]"},
	} {
		var params []string
		for _, spec := range ipqs.Specs(f.kind) {
			params = append(params, Code(spec.Form()))
		}
		forms = append(forms, Code(f.command)+"\nParameters: "+strings.Join(params, " "))
	}
	forms = append(forms, "For example "+Code("/ipqs ip 185.220.101.4 strictness=1 fast=true"))

	other := strings.Join([]string{
		"*More*",
		Code("/ipqs status") + " shows whether IPQualityScore answers and how many credits are left",
		Code("/ipqs help") + " shows this help",
		"You can also mention @ipqs in a channel with indicators in the message, or send them to it in a DM.",
	}, "\n")

	return Message{
		Text: "ipqsbot help: /ipqs followed by IP addresses, URLs, domains or email addresses",
		Blocks: []slack.Block{
			slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "ipqsbot: IPQualityScore lookups", true, false)),
			slack.NewSectionBlock(mrkdwn(lookups), nil, nil),
			slack.NewSectionBlock(mrkdwn(strings.Join(forms, "\n")), nil, nil),
			slack.NewSectionBlock(mrkdwn(other), nil, nil),
		},
	}
}
