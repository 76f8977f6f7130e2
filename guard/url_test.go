package guard

import (
	"slices"
	"testing"
)

func TestStripURL(t *testing.T) {
	tests := []struct {
		raw     string
		sent    string
		removed []string
	}{
		{"https://example.com/login", "https://example.com/login", nil},
		{"https://example.com", "https://example.com", nil},
		{"https://example.com/a/b?token=s3cret&u=1", "https://example.com/a/b", []string{"query"}},
		{"https://example.com/a#section", "https://example.com/a", []string{"fragment"}},
		{"https://user:pa55@example.com/x", "https://example.com/x", []string{"credentials"}},
		{"https://user@example.com/x", "https://example.com/x", []string{"credentials"}},
		{"https://user:pa55@example.com:8443/x?y=1#z", "https://example.com:8443/x", []string{"credentials", "query", "fragment"}},
		{"http://example.com:8080/", "http://example.com:8080/", nil},
		{"http://[2001:db8::1]/admin?x=1", "http://[2001:db8::1]/admin", []string{"query"}},
		{"http://admin:pw@[2001:db8::1]:8443/p#f", "http://[2001:db8::1]:8443/p", []string{"credentials", "fragment"}},
		{"http://203.0.113.9:81/a?b", "http://203.0.113.9:81/a", []string{"query"}},
		{"https://example.com/a%20b/c?q", "https://example.com/a%20b/c", []string{"query"}},
		{"https://example.com/path?", "https://example.com/path", nil},
		{"https://example.com/path#", "https://example.com/path", nil},
		{"HTTPS://Example.com/Path", "https://Example.com/Path", nil},
		{"https://bücher.de/ä?x=ü", "https://bücher.de/%C3%A4", []string{"query"}},
		{"https://user:p ss@example.com/x?y#z", "https://example.com/x", []string{"credentials", "query", "fragment"}},
		{"https://example.com/%zz?q=1", "https://example.com/%zz", []string{"query"}},
		{"example.com/login?next=/home", "example.com/login", []string{"query"}},
		{"https://example.com/a@b?c", "https://example.com/a@b", []string{"query"}},
		{"https://example.com?q=1", "https://example.com", []string{"query"}},
	}
	for _, tt := range tests {
		sent, removed := StripURL(tt.raw)
		if sent != tt.sent {
			t.Errorf("StripURL(%q) sent = %q, want %q", tt.raw, sent, tt.sent)
		}
		if !slices.Equal(removed, tt.removed) {
			t.Errorf("StripURL(%q) removed = %q, want %q", tt.raw, removed, tt.removed)
		}
	}
}
