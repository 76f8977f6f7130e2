package formatter

import (
	"encoding/json"
	"errors"
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

	if !strings.Contains(body, "sent `hxxps://abc[.]com/reset` without its query, fragment") {
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
