package formatter

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed time of every rendering in the tests.
var now = time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC)

// loadResult decodes the fixture testdata/name.json as a result of kind.
func loadResult(t testing.TB, name string, kind ipqs.Kind, value string) *ipqs.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}

	r := &ipqs.Result{Kind: kind, Value: value, Raw: data, FetchedAt: now.Add(-2 * time.Second)}
	var target any
	switch kind {
	case ipqs.KindIP:
		r.IP = new(ipqs.IPResult)
		target = r.IP
	case ipqs.KindURL:
		r.URL = new(ipqs.URLResult)
		target = r.URL
	case ipqs.KindEmail:
		r.Email = new(ipqs.EmailResult)
		target = r.Email
	}
	if err := json.Unmarshal(data, target); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return r
}

// loadAccount decodes testdata/account.json.
func loadAccount(t testing.TB) *ipqs.Account {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var acct ipqs.Account
	if err := json.Unmarshal(data, &acct); err != nil {
		t.Fatal(err)
	}
	return &acct
}

// encode returns msg as indented JSON without HTML escaping, so that "<" and
// "&" appear as Slack receives them after decoding.
func encode(t testing.TB, msg Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{msg.Text, msg.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkGolden compares msg with testdata/name.golden.json, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, msg Message) []byte {
	t.Helper()
	got := encode(t, msg)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}

	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./formatter -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gotLines), len(wantLines)) {
			g, w := lineAt(gotLines, i), lineAt(wantLines, i)
			if g != w {
				t.Errorf("%s differs at line %d (run with -update to accept):\ngot:  %s\nwant: %s", path, i+1, g, w)
				break
			}
		}
	}
	return got
}

// lineAt returns lines[i], or "" past the end.
func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// texts returns every text object of msg's blocks.
func texts(msg Message) []*slack.TextBlockObject {
	var list []*slack.TextBlockObject
	for _, b := range msg.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			list = append(list, b.Text)
		case *slack.SectionBlock:
			if b.Text != nil {
				list = append(list, b.Text)
			}
			list = append(list, b.Fields...)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if text, ok := e.(*slack.TextBlockObject); ok {
					list = append(list, text)
				}
			}
		}
	}
	return list
}

// Slack's Block Kit limits, and the bound on encoded blocks below the
// msg_blocks_too_long rejections seen at about 13,000 characters.
const (
	slackBlocks      = 50
	slackBlocksJSON  = 12000
	slackHeader      = 150
	slackSectionText = 3000
	slackFields      = 10
	slackFieldText   = 2000
	slackContext     = 10
)

// checkLimits fails t when msg breaks one of Slack's Block Kit limits.
func checkLimits(t *testing.T, msg Message) {
	t.Helper()
	if len(msg.Blocks) > slackBlocks {
		t.Errorf("message has %d blocks, limit %d", len(msg.Blocks), slackBlocks)
	}
	data, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > slackBlocksJSON {
		t.Errorf("blocks encode to %d bytes, limit %d", len(data), slackBlocksJSON)
	}
	if msg.Text == "" {
		t.Error("message has no notification text")
	}

	for i, b := range msg.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if b.Text.Type != slack.PlainTextType {
				t.Errorf("block %d: header text is %s, want plain_text", i, b.Text.Type)
			}
			if n := utf8.RuneCountInString(b.Text.Text); n > slackHeader {
				t.Errorf("block %d: header has %d characters, limit %d", i, n, slackHeader)
			}
		case *slack.SectionBlock:
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("block %d: section has neither text nor fields", i)
			}
			if b.Text != nil {
				if n := utf8.RuneCountInString(b.Text.Text); n > slackSectionText {
					t.Errorf("block %d: section text has %d characters, limit %d", i, n, slackSectionText)
				}
			}
			if len(b.Fields) > slackFields {
				t.Errorf("block %d: section has %d fields, limit %d", i, len(b.Fields), slackFields)
			}
			for _, f := range b.Fields {
				if n := utf8.RuneCountInString(f.Text); n > slackFieldText {
					t.Errorf("block %d: field has %d characters, limit %d", i, n, slackFieldText)
				}
			}
		case *slack.ContextBlock:
			if n := len(b.ContextElements.Elements); n == 0 || n > slackContext {
				t.Errorf("block %d: context has %d elements, want 1 to 10", i, n)
			}
		case *slack.DividerBlock:
		default:
			t.Errorf("block %d: unexpected block type %T", i, b)
		}
	}

	for _, text := range texts(msg) {
		if err := text.Validate(); err != nil {
			t.Errorf("text %q: %v", text.Text, err)
		}
		if text.Type == slack.MarkdownType && !text.Verbatim {
			t.Errorf("mrkdwn text %q is not verbatim", text.Text)
		}
	}
}

// outsideCode returns the parts of a mrkdwn text that are not in code spans.
func outsideCode(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		for i, part := range strings.Split(line, "`") {
			if i%2 == 0 {
				b.WriteString(part)
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parsed returns value read by the indicator package as kind, so cards are
// tested with the Display the bot really produces. Skipped is cleared,
// because the fixtures use reserved example names that the bot would not
// look up; tests of skipped items set it themselves.
func parsed(kind indicator.Kind, value string) indicator.Indicator {
	in, err := indicator.Parse(kind, value)
	if err != nil {
		panic(fmt.Sprintf("test indicator %q: %v", value, err))
	}
	in.Skipped = ""
	return in
}

// ip returns an indicator of kind ip.
func ip(value string) indicator.Indicator { return parsed(indicator.KindIP, value) }

// urlIndicator returns an indicator of kind url or domain.
func urlIndicator(kind indicator.Kind, value string) indicator.Indicator { return parsed(kind, value) }

// email returns an indicator of kind email.
func email(value string) indicator.Indicator { return parsed(indicator.KindEmail, value) }

// allText returns msg's notification text and the text of every text object
// of its blocks, one per line.
func allText(msg Message) string {
	var b strings.Builder
	b.WriteString(msg.Text + "\n")
	for _, text := range texts(msg) {
		b.WriteString(text.Text)
		b.WriteString("\n")
	}
	return b.String()
}
