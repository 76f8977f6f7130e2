package guard

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
	}{
		{"30/m", Rate{30, time.Minute}},
		{"5/s", Rate{5, time.Second}},
		{"100/h", Rate{100, time.Hour}},
		{"1000/d", Rate{1000, Day}},
		{" 30 / m ", Rate{30, time.Minute}},
		{"30/M", Rate{30, time.Minute}},
		{"unlimited", Rate{}},
		{"Unlimited", Rate{}},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil {
			t.Errorf("ParseRate(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRate(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseRateInvalid(t *testing.T) {
	for _, in := range []string{"", "30", "30/", "/m", "0/m", "-5/m", "30/min", "30/1m", "30/w", "1.5/m", "thirty/m", "30/m/s", "none", "99999999999999999999/m"} {
		_, err := ParseRate(in)
		if err == nil {
			t.Errorf("ParseRate(%q) succeeded, want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "30/m") || !strings.Contains(err.Error(), "unlimited") {
			t.Errorf("ParseRate(%q) error %q does not show a valid form", in, err)
		}
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		in   Rate
		want string
	}{
		{Rate{30, time.Minute}, "30 per minute"},
		{Rate{1, time.Second}, "1 per second"},
		{Rate{100, time.Hour}, "100 per hour"},
		{Rate{1000, Day}, "1,000 per day"},
		{Rate{10, 90 * time.Second}, "10 per 1m30s"},
		{Rate{}, "unlimited"},
		{Rate{N: 5}, "unlimited"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRateStringParsesBack(t *testing.T) {
	for _, in := range []string{"30/m", "5/s", "100/h", "1000/d"} {
		r, err := ParseRate(in)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.String(), "unlimited") {
			t.Errorf("ParseRate(%q).String() = %q", in, r.String())
		}
	}
}
