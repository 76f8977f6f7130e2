package formatter

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

// Block Kit limits from Slack's documentation. A section's text may hold
// 3,000 characters and a field 2,000. The texts here stay far below both
// because of maxListJSON and maxFieldValue.
const (
	maxBlocks = 50  // blocks in a message
	maxFields = 10  // fields in a section
	maxHeader = 150 // characters of a header
)

// maxBlocksJSON bounds the JSON encoding of a message's blocks in bytes.
// Slack has rejected messages with about 13,000 characters of blocks as
// msg_blocks_too_long, a limit its documentation does not state. Bytes of
// the encoding slack-go sends are never fewer than characters, so the bound
// is conservative.
const maxBlocksJSON = 12000

// maxListJSON bounds the JSON encoding of the text of each compact list (the
// items without a full card, and the skipped items), so both lists together
// leave room for full cards.
const maxListJSON = 2400

// maxListDisplay bounds an indicator in a compact list, in runes.
const maxListDisplay = 80

// maxReason bounds the reason of a skipped indicator, in runes.
const maxReason = 100

// Item is one indicator and the outcome of its lookup.
type Item struct {
	Indicator indicator.Indicator
	// Result is the lookup result; nil when the indicator was skipped or the
	// lookup failed.
	Result *ipqs.Result
	// Err is the lookup failure, if any.
	Err error
	// Sent is the value sent to IPQS when it differs from the indicator, as
	// when unasked enrichment leaves out a URL's query. Removed names the
	// parts left out.
	Sent    string
	Removed []string
}

// Message is a rendered reply: Blocks for clients, Text for notifications.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Results renders items into one message. Looked-up and failed items get a
// full card each, in order, for as many as fit Slack's limits. The rest get
// one line each, and skipped items are listed together at the end. now dates
// cached results.
func Results(items []Item, now time.Time) Message {
	var looked, skipped []Item
	for _, it := range items {
		if it.Indicator.Skipped != "" {
			skipped = append(skipped, it)
		} else {
			looked = append(looked, it)
		}
	}

	if len(items) == 0 {
		return Message{
			Text:   "ipqsbot: no indicators",
			Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn("No indicators to look up."), nil, nil)},
		}
	}

	var blocks []slack.Block
	shown := 0
	for _, it := range looked {
		next := append(dividerAfter(blocks), card(it, now)...)
		if !fits(append(next, tail(looked[shown+1:], skipped, len(next) > 0)...)) {
			break
		}
		blocks = next
		shown++
	}
	blocks = append(blocks, tail(looked[shown:], skipped, len(blocks) > 0)...)

	return Message{Text: resultsText(items), Blocks: blocks}
}

// dividerAfter returns a copy of blocks with a divider appended, or nil when
// blocks is empty.
func dividerAfter(blocks []slack.Block) []slack.Block {
	if len(blocks) == 0 {
		return nil
	}
	out := make([]slack.Block, 0, len(blocks)+5)
	out = append(out, blocks...)
	return append(out, slack.NewDividerBlock())
}

// tail returns the compact lists that end a message: one line for each item
// in rest, which did not get a full card, and one for each skipped item.
// after reports whether cards precede the lists.
func tail(rest, skipped []Item, after bool) []slack.Block {
	var blocks []slack.Block
	add := func(text string) {
		if after || len(blocks) > 0 {
			blocks = append(blocks, slack.NewDividerBlock())
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}

	if len(rest) > 0 {
		heading := fmt.Sprintf("*…and %d more:*", len(rest))
		if !after {
			heading = fmt.Sprintf("*%d %s:*", len(rest), plural(len(rest), "indicator", "indicators"))
		}
		add(list(heading, len(rest), func(i int) string { return compactLine(rest[i]) }))
	}

	if len(skipped) > 0 {
		add(list("", len(skipped), func(i int) string { return skippedLine(skipped[i]) }))
	}
	return blocks
}

// list joins heading and as many of the n lines returned by lineAt as fit
// maxListJSON, then adds how many lines were left out.
func list(heading string, n int, lineAt func(i int) string) string {
	var b strings.Builder
	b.WriteString(heading)
	size := jsonLen(heading)
	for i := range n {
		line := lineAt(i)
		more := fmt.Sprintf("…and %d more not shown", n-i)
		if size+jsonLen("\n"+line)+jsonLen("\n"+more) > maxListJSON {
			b.WriteString("\n" + more)
			break
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(line)
		size += jsonLen("\n" + line)
	}
	return b.String()
}

// compactLine returns the one-line summary of an item without a full card,
// such as "`a[.]com` 🔴 malicious 100".
func compactLine(it Item) string {
	line := Code(truncate(it.Indicator.SafeDisplay(), maxListDisplay))
	if line == "" {
		line = "(empty " + kindName(it.Indicator.Kind) + ")"
	}
	if it.Result == nil {
		if why := ShortError(it.Err); why != "" {
			return line + " ⚠️ lookup failed: " + why
		}
		return line + " ⚠️ lookup failed"
	}

	verdict := Verdict(it.Result)
	line += " " + Emoji(verdict) + " " + verdict
	if _, value := score(it.Result); value.Valid {
		line += fmt.Sprintf(" %d", value.Value)
	}
	return line
}

// skippedLine returns the line of an indicator that was not looked up.
func skippedLine(it Item) string {
	line := Code(truncate(it.Indicator.SafeDisplay(), maxListDisplay))
	if line == "" {
		line = "(empty " + kindName(it.Indicator.Kind) + ")"
	}
	return line + " — not looked up: " + inline(truncate(it.Indicator.Skipped, maxReason))
}

// fits reports whether blocks stay within Slack's limits for a message.
func fits(blocks []slack.Block) bool {
	if len(blocks) > maxBlocks {
		return false
	}
	data, err := json.Marshal(blocks)
	return err == nil && len(data) <= maxBlocksJSON
}

// jsonLen returns the length of s encoded as a JSON string, the way slack-go
// encodes it, without the quotes.
func jsonLen(s string) int {
	data, err := json.Marshal(s)
	if err != nil {
		return len(s) * 6
	}
	return len(data) - 2
}

// outcomeOrder lists the outcomes of the notification text, most serious
// first.
var outcomeOrder = []string{
	VerdictMalicious, VerdictAbusive, VerdictRisky, VerdictHighRisk,
	VerdictSuspicious, VerdictInvalid, VerdictUnverified, VerdictUnknown,
	VerdictClean, "failed", "skipped",
}

// resultsText returns the notification text of items, such as
// "ipqsbot: 3 indicators — 1 malicious, 1 clean, 1 skipped". It holds no
// indicator, so it cannot contain a link.
func resultsText(items []Item) string {
	counts := make(map[string]int)
	for _, it := range items {
		switch {
		case it.Indicator.Skipped != "":
			counts["skipped"]++
		case it.Result == nil:
			counts["failed"]++
		default:
			counts[Verdict(it.Result)]++
		}
	}

	var parts []string
	for _, outcome := range outcomeOrder {
		if n := counts[outcome]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, outcome))
		}
	}
	return fmt.Sprintf("ipqsbot: %d %s — %s", len(items), plural(len(items), "indicator", "indicators"), strings.Join(parts, ", "))
}

// plural returns one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
