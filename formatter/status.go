package formatter

import (
	"strconv"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

// Status renders the reply to "/ipqs status": that IPQualityScore is
// reachable, the credits left and the usage counters of acct. With a non-nil err, or
// a nil acct, it renders what failed and what to do instead. now is the
// time of the check.
func Status(acct *ipqs.Account, err error, now time.Time) Message {
	title := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "IPQualityScore status", true, false))
	checked := "checked " + now.UTC().Format("2006-01-02 15:04 MST")

	if err != nil || acct == nil {
		context := checked
		if id := errorRequestID(err); id != "" {
			context += " · request " + Code(id)
		}
		return Message{
			Text: "ipqsbot: IPQualityScore status check failed",
			Blocks: []slack.Block{
				title,
				slack.NewSectionBlock(mrkdwn("⚠️ "+Escape(ErrorText(err))), nil, nil),
				slack.NewContextBlock("", mrkdwn(context)),
			},
		}
	}

	var fields []*slack.TextBlockObject
	for _, counter := range []struct {
		label string
		value ipqs.Int
	}{
		{"Credits left", acct.Credits},
		{"Lookups used", acct.Usage},
		{"IP lookups", acct.ProxyUsage},
		{"URL lookups", acct.URLUsage},
		{"Email lookups", acct.EmailUsage},
		{"Phone lookups", acct.PhoneUsage},
	} {
		if counter.value.Valid {
			fields = append(fields, mrkdwn("*"+counter.label+"*\n"+formatCount(counter.value.Value)))
		}
	}

	context := checked
	if acct.RequestID != "" {
		context += " · request " + Code(acct.RequestID)
	}
	text := "ipqsbot: IPQualityScore is reachable"
	if acct.Credits.Valid {
		text += ", " + formatCount(acct.Credits.Value) + " credits left"
	}
	return Message{
		Text: text,
		Blocks: []slack.Block{
			title,
			slack.NewSectionBlock(mrkdwn("✅ Connected to IPQualityScore. The API key works."), fields, nil),
			slack.NewContextBlock("", mrkdwn(context)),
		},
	}
}

// formatCount returns n with commas between groups of three digits.
func formatCount(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	for i := len(digits) - 3; i > 0; i -= 3 {
		digits = digits[:i] + "," + digits[i:]
	}
	return sign + digits
}
