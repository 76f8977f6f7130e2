package guard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// fakeNotifier records the texts it is sent and fails while err is set.
type fakeNotifier struct {
	mu    sync.Mutex
	texts []string
	err   error
	sent  chan string
}

func (n *fakeNotifier) Notify(ctx context.Context, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	n.texts = append(n.texts, text)
	if n.sent != nil {
		n.sent <- text
	}
	return nil
}

func (n *fakeNotifier) Texts() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.texts...)
}

func mustThresholds(t *testing.T, s string) []Threshold {
	t.Helper()
	th, err := ParseThresholds(s)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// levelOf returns the "warning level of …" phrase of a warning text.
func levelOf(text string) string {
	_, after, _ := strings.Cut(text, "warning level of ")
	level, _, _ := strings.Cut(after, " ")
	return level
}

func TestCreditWatchWarnings(t *testing.T) {
	type reading struct {
		credits int64
		warn    string // level named in the warning, "" for none
	}
	tests := []struct {
		name       string
		thresholds string
		readings   []reading
	}{
		{"percent thresholds", "20%,5%", []reading{
			{20000, ""}, {10000, ""}, {4000, ""}, {3999, "20%"}, {3000, ""},
			{1200, ""}, {999, "5%"}, {500, ""}, {0, ""},
		}},
		{"rearm after top-up", "20%,5%", []reading{
			{20000, ""}, {3000, "20%"}, {20000, ""}, {3500, "20%"}, {900, "5%"},
			{1500, ""}, {900, "5%"},
		}},
		{"one warning for a jump", "20%,5%", []reading{
			{20000, ""}, {500, "5%"}, {400, ""}, {4500, ""}, {3900, "20%"},
		}},
		{"absolute thresholds", "5000,1000", []reading{
			{8000, ""}, {5000, ""}, {4999, "5,000"}, {3000, ""}, {999, "1,000"}, {10, ""},
		}},
		{"first reading below absolute", "5000,1000", []reading{
			{2000, "5,000"}, {1500, ""}, {800, "1,000"},
		}},
		{"mixed thresholds", "10%,200", []reading{
			{10000, ""}, {999, "10%"}, {150, "200"},
		}},
		{"baseline raised by top-up", "20%", []reading{
			{3000, ""}, {20000, ""}, {3999, "20%"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notifier := &fakeNotifier{}
			w := NewCreditWatch(mustThresholds(t, tt.thresholds), nil, notifier, time.Hour, nil)
			for i, r := range tt.readings {
				before := len(notifier.Texts())
				w.Observe(context.Background(), r.credits)
				texts := notifier.Texts()

				switch {
				case r.warn == "" && len(texts) != before:
					t.Errorf("reading %d (%d credits) warned: %q", i, r.credits, texts[len(texts)-1])
				case r.warn != "" && len(texts) != before+1:
					t.Errorf("reading %d (%d credits) sent %d warnings, want 1", i, r.credits, len(texts)-before)
				case r.warn != "" && levelOf(texts[len(texts)-1]) != r.warn:
					t.Errorf("reading %d warning level = %q, want %q", i, levelOf(texts[len(texts)-1]), r.warn)
				}
			}
		})
	}
}

func TestCreditWatchText(t *testing.T) {
	tests := []struct {
		thresholds string
		readings   []int64
		want       string
	}{
		{"20%,5%", []int64{20000, 812},
			"IPQualityScore credits are low: 812 left, below the warning level of 5% (1,000 of 20,000, the highest balance seen since the bot started). Top up the account or lower the bot's lookup limits."},
		{"5000,1000", []int64{1_250_000, 4321},
			"IPQualityScore credits are low: 4,321 left, below the warning level of 5,000 credits. Top up the account or lower the bot's lookup limits."},
		{"12.5%", []int64{1000, 100},
			"IPQualityScore credits are low: 100 left, below the warning level of 12.5% (125 of 1,000, the highest balance seen since the bot started). Top up the account or lower the bot's lookup limits."},
	}
	for _, tt := range tests {
		notifier := &fakeNotifier{}
		w := NewCreditWatch(mustThresholds(t, tt.thresholds), nil, notifier, 0, nil)
		for _, credits := range tt.readings {
			w.Observe(context.Background(), credits)
		}
		texts := notifier.Texts()
		if len(texts) != 1 {
			t.Fatalf("%s: warnings = %q, want one", tt.thresholds, texts)
		}
		if texts[0] != tt.want {
			t.Errorf("%s: text\n%s\nwant\n%s", tt.thresholds, texts[0], tt.want)
		}
		if strings.ContainsAny(texts[0], "<>*_`") {
			t.Errorf("%s: text has mrkdwn characters: %s", tt.thresholds, texts[0])
		}
	}
}

func TestCreditWatchNotifyFailureRetries(t *testing.T) {
	log, logs := newTestLogger()
	notifier := &fakeNotifier{err: errors.New("slack: channel_not_found")}
	w := NewCreditWatch(mustThresholds(t, "5%"), nil, notifier, time.Hour, log)
	ctx := context.Background()

	w.Observe(ctx, 10000)
	w.Observe(ctx, 400)
	if !strings.Contains(logs.String(), "channel_not_found") {
		t.Errorf("log lacks the notify error:\n%s", logs)
	}

	notifier.mu.Lock()
	notifier.err = nil
	notifier.mu.Unlock()
	w.Observe(ctx, 390)
	w.Observe(ctx, 380)
	if n := len(notifier.Texts()); n != 1 {
		t.Errorf("warnings after the notifier recovered = %d, want 1", n)
	}
}

func TestCreditWatchConcurrentObserve(t *testing.T) {
	notifier := &fakeNotifier{}
	w := NewCreditWatch(mustThresholds(t, "20%,5%"), nil, notifier, time.Hour, nil)
	w.Observe(context.Background(), 20000)

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { w.Observe(context.Background(), 3000) })
	}
	wg.Wait()
	if n := len(notifier.Texts()); n != 1 {
		t.Errorf("warnings = %d, want 1", n)
	}
}

func TestCreditWatchWithoutNotifierLogs(t *testing.T) {
	log, logs := newTestLogger()
	w := NewCreditWatch(mustThresholds(t, "1000"), nil, nil, time.Hour, log)
	w.Observe(context.Background(), 10)
	if !strings.Contains(logs.String(), "IPQS credits low") {
		t.Errorf("log lacks the warning:\n%s", logs)
	}
}

// scriptedAccount returns its responses in turn, then repeats the last.
type scriptedAccount struct {
	mu      sync.Mutex
	answers []accountAnswer
	calls   int
}

type accountAnswer struct {
	acct *ipqs.Account
	err  error
}

func (s *scriptedAccount) Account(ctx context.Context) (*ipqs.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	return a.acct, a.err
}

func credits(n int64) accountAnswer {
	return accountAnswer{acct: &ipqs.Account{Success: true, Credits: ipqs.Int{Value: n, Valid: true}}}
}

func TestCreditWatchRun(t *testing.T) {
	acct := &scriptedAccount{answers: []accountAnswer{
		credits(20000),
		{err: errors.New("ipqs: account: status 503")},
		{acct: &ipqs.Account{Success: false, Message: "Invalid or unauthorized key"}},
		{acct: &ipqs.Account{Success: true}},
		credits(900),
	}}
	notifier := &fakeNotifier{sent: make(chan string, 10)}
	log, logs := newTestLogger()
	w := NewCreditWatch(mustThresholds(t, "5%"), acct, notifier, 5*time.Millisecond, log)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()

	select {
	case text := <-notifier.sent:
		if !strings.Contains(text, "900 left") || !strings.Contains(text, "1,000 of 20,000") {
			t.Errorf("warning = %q, want 900 left of the 20,000 baseline", text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no warning sent")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}

	for _, want := range []string{"status 503", "Invalid or unauthorized key", "has no credits"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if n := len(notifier.Texts()); n != 1 {
		t.Errorf("warnings = %d, want 1", n)
	}
}

func TestParseThresholds(t *testing.T) {
	tests := []struct {
		in   string
		want []Threshold
	}{
		{DefaultThresholds, []Threshold{{Percent: 20}, {Percent: 5}}},
		{"5000,1000", []Threshold{{Credits: 5000}, {Credits: 1000}}},
		{"10%, 200", []Threshold{{Percent: 10}, {Credits: 200}}},
		{"0.5%", []Threshold{{Percent: 0.5}}},
		{"99.9%", []Threshold{{Percent: 99.9}}},
		{" 1 ", []Threshold{{Credits: 1}}},
	}
	for _, tt := range tests {
		got, err := ParseThresholds(tt.in)
		if err != nil {
			t.Errorf("ParseThresholds(%q) error: %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseThresholds(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseThresholds(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestParseThresholdsInvalid(t *testing.T) {
	for _, in := range []string{"", "0%", "100%", "150%", "-5%", "0", "-10", "1.5", "five", "5%,", ",5%", "NaN%", "Inf%", "5 %%", "1e3"} {
		_, err := ParseThresholds(in)
		if err == nil {
			t.Errorf("ParseThresholds(%q) succeeded, want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "5%") || !strings.Contains(err.Error(), "1000") {
			t.Errorf("ParseThresholds(%q) error %q does not show a valid form", in, err)
		}
	}
}

func TestParseThresholdsDuplicate(t *testing.T) {
	if _, err := ParseThresholds("5%,5%"); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate thresholds error = %v, want one naming the duplicate", err)
	}
}

func TestThresholdString(t *testing.T) {
	for _, in := range []string{"20%", "12.5%", "1000"} {
		th := mustThresholds(t, in)
		if got := th[0].String(); got != in {
			t.Errorf("String of %q = %q", in, got)
		}
	}
}
