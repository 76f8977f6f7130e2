package guard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the period of the per-day limit.
const Day = 24 * time.Hour

// Rate is N events per Per. The zero Rate, and any Rate with N or Per not
// above 0, means unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether r sets no limit.
func (r Rate) Unlimited() bool { return r.N <= 0 || r.Per <= 0 }

// String returns r in words, such as "30 per minute" or "unlimited".
func (r Rate) String() string {
	if r.Unlimited() {
		return "unlimited"
	}
	n := formatCount(int64(r.N))
	switch r.Per {
	case time.Second:
		return n + " per second"
	case time.Minute:
		return n + " per minute"
	case time.Hour:
		return n + " per hour"
	case Day:
		return n + " per day"
	}
	return n + " per " + r.Per.String()
}

// rateUnits maps the unit letters of ParseRate to periods.
var rateUnits = map[string]time.Duration{
	"s": time.Second,
	"m": time.Minute,
	"h": time.Hour,
	"d": Day,
}

// ParseRate reads a rate written N/s, N/m, N/h or N/d, where N is a whole
// number above 0 (such as 30/m), or the word "unlimited", which returns the
// zero Rate. Spaces around the parts are ignored.
func ParseRate(s string) (Rate, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	if text == "unlimited" {
		return Rate{}, nil
	}

	count, unit, ok := strings.Cut(text, "/")
	per, known := rateUnits[strings.TrimSpace(unit)]
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || !known || err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("invalid rate %q: want N/s, N/m, N/h or N/d with N a whole number above 0, such as 30/m, or unlimited", s)
	}
	return Rate{N: n, Per: per}, nil
}
