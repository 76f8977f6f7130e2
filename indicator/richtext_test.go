package indicator

import (
	"slices"
	"testing"
)

func TestExtractMessage(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		links []Link
		want  []string
	}{
		{
			name: "no links",
			text: "see evil[.]com",
			want: []string{"domain evil.com"},
		},
		{
			name:  "link only in blocks",
			text:  "see the report",
			links: []Link{{URL: "https://phish.example.net/login", Text: "the report"}},
			want:  []string{"url https://phish.example.net/login"},
		},
		{
			name:  "link also in text",
			text:  "see <https://phish.example.net/login|the report>",
			links: []Link{{URL: "https://phish.example.net/login", Text: "the report"}},
			want:  []string{"url https://phish.example.net/login"},
		},
		{
			name:  "disguised label",
			text:  "log in here",
			links: []Link{{URL: "https://phish.example.net/x", Text: "paypal.com"}},
			want:  []string{"url https://phish.example.net/x", "domain paypal.com"},
		},
		{
			name:  "typed host",
			text:  "",
			links: []Link{{URL: "http://evil.example.com", Text: "evil.example.com"}},
			want:  []string{"domain evil.example.com"},
		},
		{
			name:  "markup characters in link",
			text:  "x",
			links: []Link{{URL: "https://phish.example.net/a>b|c", Text: "a|b>c"}, {URL: ""}},
			want:  []string{"url https://phish.example.net/a%3Eb%7Cc"},
		},
		{
			name:  "mailto link",
			text:  "write to",
			links: []Link{{URL: "mailto:bob@example.org", Text: "bob@example.org"}},
			want:  []string{"email bob@example.org"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, in := range ExtractMessage(tt.text, tt.links) {
				got = append(got, string(in.Kind)+" "+in.Value)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ExtractMessage = %q, want %q", got, tt.want)
			}
		})
	}
}
