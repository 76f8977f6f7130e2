package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// The parts of Block Kit blocks that printPost renders.
type (
	block struct {
		Type     string        `json:"type"`
		Text     *textObject   `json:"text"`
		Fields   []textObject  `json:"fields"`
		Elements []blockMember `json:"elements"`
	}
	textObject struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	// blockMember is an element of a context or actions block: a text object,
	// whose text is a string, or an image or button.
	blockMember struct {
		Type    string          `json:"type"`
		Text    json.RawMessage `json:"text"`
		AltText string          `json:"alt_text"`
	}
)

const divider = "────────────────────────────────────────"

// printPost prints where p went, its fallback text and its blocks, rendered
// for a terminal or, with raw, as indented JSON.
func printPost(w io.Writer, p slacksim.Post, raw bool) {
	fmt.Fprintf(w, "← %s\n", destination(p))
	fmt.Fprintf(w, "  text: %s\n", indent(p.Text, "        "))

	switch {
	case len(p.Blocks) == 0:
		fmt.Fprintln(w, "  (no blocks)")
	case raw:
		var out bytes.Buffer
		if err := json.Indent(&out, p.Blocks, "  ", "  "); err != nil {
			fmt.Fprintf(w, "  %s\n", p.Blocks)
			return
		}
		fmt.Fprintf(w, "  %s\n", out.String())
	default:
		renderBlocks(w, p.Blocks)
	}
}

// destination describes where the bot sent p.
func destination(p slacksim.Post) string {
	switch p.Method {
	case slacksim.MethodResponseURL:
		kind := p.ResponseType
		if kind == "" {
			kind = "ephemeral" // Slack's default for response_url posts
		}
		d := fmt.Sprintf("response_url (%s) of /ipqs in channel %s", kind, p.Channel)
		if p.ReplaceOriginal {
			d += ", replacing the original"
		}
		return d
	case slacksim.MethodPostMessage:
		if p.ThreadTS == "" {
			return fmt.Sprintf("chat.postMessage to channel %s, ts %s", p.Channel, p.TS)
		}
		return fmt.Sprintf("chat.postMessage to channel %s, thread %s, ts %s", p.Channel, p.ThreadTS, p.TS)
	case slacksim.MethodPostEphemeral:
		return fmt.Sprintf("chat.postEphemeral to user %s in channel %s", p.User, p.Channel)
	case slacksim.MethodUpdate:
		return fmt.Sprintf("chat.update of message %s in channel %s", p.TS, p.Channel)
	}
	return fmt.Sprintf("%s to channel %s", p.Method, p.Channel)
}

// renderBlocks prints the blocks in blocksJSON as indented plain text.
func renderBlocks(w io.Writer, blocksJSON json.RawMessage) {
	var blocks []block
	if err := json.Unmarshal(blocksJSON, &blocks); err != nil {
		fmt.Fprintf(w, "  (unreadable blocks: %v)\n  %s\n", err, blocksJSON)
		return
	}

	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text != nil {
				fmt.Fprintf(w, "  == %s ==\n", b.Text.Text)
			}
		case "section":
			if b.Text != nil {
				fmt.Fprintf(w, "  %s\n", indent(unescape(b.Text.Text), "  "))
			}
			for _, f := range b.Fields {
				fmt.Fprintf(w, "    %s\n", indent(unescape(fieldText(f.Text)), "      "))
			}
		case "context":
			parts := make([]string, 0, len(b.Elements))
			for _, e := range b.Elements {
				parts = append(parts, memberText(e))
			}
			fmt.Fprintf(w, "  › %s\n", indent(unescape(strings.Join(parts, "  ")), "    "))
		case "actions":
			parts := make([]string, 0, len(b.Elements))
			for _, e := range b.Elements {
				parts = append(parts, memberText(e))
			}
			fmt.Fprintf(w, "  %s\n", strings.Join(parts, " "))
		case "divider":
			fmt.Fprintf(w, "  %s\n", divider)
		default:
			fmt.Fprintf(w, "  [%s block]\n", b.Type)
		}
	}
}

// fieldText turns a section field written as "*Name*\nvalue" into
// "Name: value", and returns any other text unchanged.
func fieldText(text string) string {
	if name, value, ok := strings.Cut(strings.TrimPrefix(text, "*"), "*\n"); ok && strings.HasPrefix(text, "*") {
		return name + ": " + value
	}
	return text
}

// memberText renders a context or actions element: text as is, a button as
// [label] and an image as its alt text.
func memberText(e blockMember) string {
	switch e.Type {
	case "mrkdwn", "plain_text":
		var s string
		if json.Unmarshal(e.Text, &s) == nil {
			return s
		}
	case "button":
		var t textObject
		if json.Unmarshal(e.Text, &t) == nil {
			return "[" + t.Text + "]"
		}
	case "image":
		return "[image: " + e.AltText + "]"
	}
	return "[" + e.Type + "]"
}

// indent indents every line of s after the first with prefix.
func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// mrkdwnEntities are the only three escapes of Slack's mrkdwn, which
// Slack's clients show as the characters.
var mrkdwnEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// unescape returns mrkdwn text as Slack shows it.
func unescape(s string) string { return mrkdwnEntities.Replace(s) }
