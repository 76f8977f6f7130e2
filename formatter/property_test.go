package formatter

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// hostile is text that Slack would turn into a mention, a link or broken
// markup if it reached mrkdwn unescaped or outside a code span.
const hostile = "<!channel> <@U123> <https://evil.com|x> `tick` & evil.com <!here>"

// manyItems returns n items that cycle through every kind of card, with
// hostile text in every second indicator and long text in every fifth.
func manyItems(t testing.TB, n int) []Item {
	t.Helper()
	ipResult := loadResult(t, "ip_vpn_tor", ipqs.KindIP, "185.220.101.4")
	urlResult := loadResult(t, "url_phishing", ipqs.KindURL, "http://bit.example/abc123")
	emailResult := loadResult(t, "email_invalid_leaked", ipqs.KindEmail, "user@example.com")

	items := make([]Item, n)
	for i := range items {
		value := fmt.Sprintf("host-%d.example.com", i)
		ind := urlIndicator(indicator.KindDomain, value)
		if i%2 == 1 {
			ind.Display = fmt.Sprintf("%d %s", i, hostile)
		}
		if i%5 == 4 {
			ind.Display = strings.Repeat("<&`", 200)
		}

		switch i % 5 {
		case 0:
			items[i] = Item{Indicator: ind, Result: urlResult}
		case 1:
			ind.Kind = indicator.KindIP
			items[i] = Item{Indicator: ind, Result: ipResult}
		case 2:
			ind.Kind = indicator.KindEmail
			items[i] = Item{Indicator: ind, Result: emailResult}
		case 3:
			items[i] = Item{Indicator: ind, Err: &ipqs.Error{Kind: ipqs.ErrTimeout, Op: "url", RequestID: "Zz<@U123>"}}
		case 4:
			ind.Skipped = "private address " + hostile
			items[i] = Item{Indicator: ind}
		}
	}
	return items
}

func TestResultsLimits(t *testing.T) {
	all := manyItems(t, 300)
	for n := 1; n <= len(all); n++ {
		items := all[:n]
		msg := Results(items, now)
		checkLimits(t, msg)
		checkAccounted(t, items, msg)
		if n >= 2 {
			checkNoMarkup(t, msg)
		}
		if t.Failed() {
			t.Fatalf("first failure with %d items", n)
		}
	}
}

// checkAccounted fails t unless every looked-up item has a card or is
// counted in the "…and N more" line.
func checkAccounted(t *testing.T, items []Item, msg Message) {
	t.Helper()
	looked := 0
	for _, it := range items {
		if it.Indicator.Skipped == "" {
			looked++
		}
	}

	cards := countHeaders(msg)
	more := 0
	if m := regexp.MustCompile(`\*…and (\d+) more:\*`).FindStringSubmatch(allText(msg)); m != nil {
		fmt.Sscan(m[1], &more)
	}
	if m := regexp.MustCompile(`^\*(\d+) indicators?:\*`).FindStringSubmatch(texts(msg)[0].Text); m != nil {
		fmt.Sscan(m[1], &more)
	}
	if cards+more != looked {
		t.Errorf("%d items looked up, but %d cards and %d more", looked, cards, more)
	}
	if want := fmt.Sprintf("ipqsbot: %d indicator", len(items)); !strings.HasPrefix(msg.Text, want) {
		t.Errorf("Text = %q, want prefix %q", msg.Text, want)
	}
}

func TestResultsManyShowsCardsFirst(t *testing.T) {
	items := manyItems(t, 300)
	msg := Results(items, now)
	if got := countHeaders(msg); got < 3 {
		t.Errorf("300 items render %d full cards, want at least 3", got)
	}
	if !strings.Contains(allText(msg), "more not shown") {
		t.Error("300 items do not say how many lines were left out")
	}
}

func TestResultsHostileText(t *testing.T) {
	r := loadResult(t, "url_phishing", ipqs.KindURL, "http://bit.example/abc123")
	r.URL.PageTitle = ipqs.Text(hostile)
	r.URL.Server = ipqs.Text(hostile)
	r.URL.Domain = ipqs.Text(hostile)
	r.URL.FinalURL = ipqs.Text(hostile)
	r.URL.IPAddress = ipqs.Text(hostile)
	r.URL.RequestID = hostile
	r.URL.Category = ipqs.Text("<!channel> & <@U123>")
	r.URL.DomainAge.Human = ipqs.Text("<https://evil.org>")

	ipResult := loadResult(t, "ip_vpn_tor", ipqs.KindIP, "185.220.101.4")
	ipResult.IP.Host = ipqs.Text(hostile)
	ipResult.IP.ISP = ipqs.Text(hostile)
	ipResult.IP.ConnectionType = ipqs.Text("<!everyone>")
	ipResult.IP.CountryCode = ipqs.Text("<@U999>")

	emailResult := loadResult(t, "email_valid", ipqs.KindEmail, "user@example.com")
	emailResult.Email.SuggestedDomain = ipqs.Text(hostile)
	emailResult.Email.Deliverability = ipqs.Text("<!here>")

	hostileIndicator := indicator.Indicator{Kind: indicator.KindURL, Value: "https://evil.com", Display: hostile}
	items := []Item{
		{Indicator: hostileIndicator, Result: r},
		{Indicator: hostileIndicator, Result: ipResult},
		{Indicator: hostileIndicator, Result: emailResult},
		{Indicator: hostileIndicator, Err: &ipqs.Error{Kind: ipqs.ErrAPI, RequestID: hostile}},
		{Indicator: indicator.Indicator{Kind: indicator.KindDomain, Display: hostile, Skipped: hostile}},
	}

	// One message with full cards, and one where most items are compact.
	crowded := append(manyItems(t, 40), items...)
	for _, msg := range []Message{Results(items, now), Results(crowded, now)} {
		checkLimits(t, msg)
		checkNoMarkup(t, msg)
	}
}

// checkNoMarkup fails t when msg contains Slack markup, or a domain from
// hostile outside a code span.
func checkNoMarkup(t *testing.T, msg Message) {
	t.Helper()
	data, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(encode(t, msg))
	if !strings.Contains(raw, "evil") {
		t.Fatal("message lost the hostile text; the test checks nothing")
	}
	for _, bad := range []string{"<!", "<@", "<http", "<#"} {
		if strings.Contains(raw, bad) {
			t.Errorf("message contains %q", bad)
		}
	}
	if strings.ContainsAny(msg.Text, "<>`") {
		t.Errorf("notification text contains markup: %q", msg.Text)
	}
	if len(data) == 0 {
		t.Error("no blocks")
	}

	entity := regexp.MustCompile(`&(amp|lt|gt);`)
	for _, text := range texts(msg) {
		if text.Type != "mrkdwn" {
			if strings.ContainsAny(text.Text, "<>") {
				t.Errorf("plain text contains angle brackets: %q", text.Text)
			}
			continue
		}
		if strings.ContainsAny(text.Text, "<>") {
			t.Errorf("mrkdwn contains an unescaped angle bracket: %q", text.Text)
		}
		if strings.Contains(entity.ReplaceAllString(text.Text, ""), "&") {
			t.Errorf("mrkdwn contains an unescaped ampersand: %q", text.Text)
		}
		for line := range strings.SplitSeq(text.Text, "\n") {
			if strings.Count(line, "`")%2 != 0 {
				t.Errorf("line has an unclosed code span: %q", line)
			}
		}
		outside := outsideCode(text.Text)
		if strings.Contains(outside, "evil") {
			t.Errorf("mrkdwn shows a domain outside a code span: %q", text.Text)
		}
	}
}

func BenchmarkResults300(b *testing.B) {
	items := manyItems(b, 300)
	for b.Loop() {
		Results(items, now)
	}
}

func BenchmarkResults3(b *testing.B) {
	items := manyItems(b, 3)
	for b.Loop() {
		Results(items, now)
	}
}
