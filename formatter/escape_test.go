package formatter

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a & b", "a &amp; b"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<https://evil.com|x>", "&lt;https://evil.com|x&gt;"},
		{"&amp;", "&amp;amp;"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  \n ", ""},
		{"evil.com", "`evil.com`"},
		{"a`b``c", "`aˋbˋˋc`"},
		{"<@U123> & x", "`&lt;@U123&gt; &amp; x`"},
		{"line\nbreak\ttab", "`line break tab`"},
		{" padded ", "`padded`"},
	}
	for _, tt := range tests {
		if got := Code(tt.in); got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Data Center", "Data Center"},
		{"Computers & Internet", "Computers &amp; Internet"},
		{"a`b", "aˋb"},
		{"evil.com", "`evil.com`"},
		{"https://x", "`https://x`"},
		{"a@b", "`a@b`"},
	}
	for _, tt := range tests {
		if got := inline(tt.in); got != tt.want {
			t.Errorf("inline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{`no quotes & such`, `no quotes &amp; such`},
		{`bad value "evil.com" here`, "bad value `evil.com` here"},
		{`two "a" and "b"`, "two `a` and `b`"},
		{`empty "" quotes`, `empty "" quotes`},
		{`unmatched "<x`, `unmatched "&lt;x`},
	}
	for _, tt := range tests {
		if got := quoted(tt.in); got != tt.want {
			t.Errorf("quoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"too long", 5, "too …"},
		{"ééééé", 3, "éé…"},
		{"x", 0, ""},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.limit)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.limit && tt.limit > 0 {
			t.Errorf("truncate(%q, %d) has %d runes", tt.in, tt.limit, n)
		}
	}
}

func TestHeaderTruncated(t *testing.T) {
	long := strings.Repeat("a[.]", 100)
	h := header(long)
	if n := utf8.RuneCountInString(h.Text.Text); n != slackHeader {
		t.Errorf("header has %d characters, want %d", n, slackHeader)
	}
	if !strings.HasSuffix(h.Text.Text, "…") {
		t.Errorf("truncated header %q does not end with …", h.Text.Text)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		cached bool
		ago    time.Duration
		want   string
	}{
		{false, time.Hour, "live lookup"},
		{true, 30 * time.Second, "cached just now"},
		{true, 12*time.Minute + 30*time.Second, "cached 12 min ago"},
		{true, 3 * time.Hour, "cached 3 h ago"},
		{true, 72 * time.Hour, "cached 3 days ago"},
		{true, -time.Minute, "cached just now"},
	}
	for _, tt := range tests {
		r := &ipqs.Result{Cached: tt.cached, FetchedAt: now.Add(-tt.ago)}
		if got := age(r, now); got != tt.want {
			t.Errorf("age(cached=%v, %v ago) = %q, want %q", tt.cached, tt.ago, got, tt.want)
		}
	}
	if got := age(&ipqs.Result{Cached: true}, now); got != "cached" {
		t.Errorf("age without FetchedAt = %q, want %q", got, "cached")
	}
}

func TestFormatCount(t *testing.T) {
	tests := map[int64]string{0: "0", 999: "999", 1000: "1,000", 4999762: "4,999,762", -1234: "-1,234"}
	for n, want := range tests {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func ExampleCode() {
	fmt.Println(Code("<!channel> see evil.com `now`"))
	// Output: `&lt;!channel&gt; see evil.com ˋnowˋ`
}

func ExampleEscape() {
	fmt.Println(Escape("Computers & Internet <b>"))
	// Output: Computers &amp; Internet &lt;b&gt;
}
