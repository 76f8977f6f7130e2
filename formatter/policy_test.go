package formatter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

func TestResultsSaysWhatWasSent(t *testing.T) {
	res := loadResult(t, "url_clean", ipqs.KindURL, "https://abc.com/reset")
	item := Item{
		Indicator: urlIndicator(indicator.KindURL, "https://abc.com/reset?token=s3cret#x"),
		Result:    res,
		Sent:      "https://abc.com/reset",
		Removed:   []string{"query", "fragment"},
	}
	body := allText(Results([]Item{item}, now))

	if !strings.Contains(body, "sent `hxxps://abc[.]com/reset` without its query and fragment") {
		t.Errorf("card does not say what was sent:\n%s", body)
	}
}

func TestResultsMixedScriptNote(t *testing.T) {
	ind := urlIndicator(indicator.KindDomain, "pаypal.com")
	if !strings.Contains(ind.Display, "xn--") {
		t.Fatalf("test indicator display %q is not punycode", ind.Display)
	}
	res := loadResult(t, "url_clean", ipqs.KindURL, ind.LookupValue())
	body := allText(Results([]Item{{Indicator: ind, Result: res}}, now))

	if !strings.Contains(body, "mixes scripts") {
		t.Errorf("card lacks the mixed-script note:\n%s", body)
	}
	plain := urlIndicator(indicator.KindDomain, "abc.com")
	if body := allText(Results([]Item{{Indicator: plain, Result: res}}, now)); strings.Contains(body, "mixes scripts") {
		t.Errorf("card of a plain name has the mixed-script note:\n%s", body)
	}
}

// limitErr is an error that carries a sentence for users.
type limitErr struct{}

func (limitErr) Error() string { return "guard: user limit" }
func (limitErr) UserMessage() string {
	return "You have reached your limit of 30 lookups per minute. Try again in 20 s."
}

func TestErrorTextUserMessage(t *testing.T) {
	err := errors.Join(errors.New("wrapped"), limitErr{})
	if got := ErrorText(err); got != (limitErr{}).UserMessage() {
		t.Errorf("ErrorText = %q, want the error's user message", got)
	}
}

func TestDenied(t *testing.T) {
	msg := Denied("ALLOWED_USERS / ALLOWED_USERGROUPS")
	js, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), "ALLOWED_USERS / ALLOWED_USERGROUPS") || !strings.Contains(string(js), "not allowed") {
		t.Errorf("refusal does not name the setting:\n%s", js)
	}
}

// shortLimitErr is an error with a few words for a one-line summary.
type shortLimitErr struct{}

func (shortLimitErr) Error() string        { return "guard: user limit" }
func (shortLimitErr) ShortMessage() string { return "USER_LOOKUP_LIMIT reached, retry in 20 s" }

func TestCompactLineSaysWhyLookupFailed(t *testing.T) {
	// Enough results to fill the cards, so the failures go to the summary.
	res := loadResult(t, "ip_vpn_tor", ipqs.KindIP, "185.220.101.4")
	var items []Item
	for i := range 40 {
		items = append(items, Item{Indicator: ip(fmt.Sprintf("198.51.100.%d", i+1)), Result: res})
	}
	failed := []struct {
		err  error
		want string
	}{
		{shortLimitErr{}, "lookup failed: USER_LOOKUP_LIMIT reached, retry in 20 s"},
		{&ipqs.Error{Kind: ipqs.ErrTimeout, Op: "ip"}, "lookup failed: IPQualityScore not answering"},
		{&ipqs.Error{Kind: ipqs.ErrInsufficientCredits, Op: "ip"}, "lookup failed: out of credits"},
	}
	for i, f := range failed {
		value := fmt.Sprintf("203.0.113.%d", i+1)
		items = append(items, Item{Indicator: ip(value), Err: f.err})
	}
	items = append(items, Item{Indicator: ip("203.0.113.99"), Err: errors.New("secret internal failure")})

	body := allText(Results(items, now))
	for _, f := range failed {
		if !strings.Contains(body, f.want) {
			t.Errorf("summary does not contain %q", f.want)
		}
	}
	if !strings.Contains(body, "203.0.113[.]99` ⚠️ lookup failed\n") && !strings.HasSuffix(body, "203.0.113[.]99` ⚠️ lookup failed") {
		t.Error("an unclassified failure is not listed as a plain failed lookup")
	}
	if strings.Contains(body, "secret internal failure") {
		t.Error("summary shows an error's own message")
	}
}
