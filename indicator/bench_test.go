package indicator

import (
	"math/rand/v2"
	"strings"
	"testing"

	"mvdan.cc/xurls/v2"
)

// chatText returns about size bytes of chat-like text: mostly prose with
// an indicator, a mention, a code word or a version string now and then.
// The same seed gives the same text.
func chatText(size int) string {
	words := []string{
		"the", "alert", "fired", "again", "for", "host", "please", "check", "logs", "and",
		"report", "back", "when", "done", "thanks", "team", "deploy", "failed", "on", "staging",
		"v4.18.2", "report.pdf", "logger.info()", "it's", "fine", "(see", "above)", "e.g.", "10:42",
	}
	extras := []string{
		"hxxps://evil[.]example[.]net/login?id=7", "<https://wiki.corp.example.com/ir/42|wiki>",
		"45.9.148[.]123", "bob[@]example.com", "<@U024BE7LH>", "c2[.]badupdate[.]xyz",
		"<http://example.org|example.org>", "2001:db8::1", "192.168.1.10:8080", "`curl -s http://198.51.100.23/x.sh`",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < size {
		if rng.IntN(12) == 0 {
			b.WriteString(extras[rng.IntN(len(extras))])
		} else {
			b.WriteString(words[rng.IntN(len(words))])
		}
		if rng.IntN(15) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// hostileInputs are 40,000-byte messages built to make a careless scanner
// backtrack or rescan.
func hostileInputs() map[string]string {
	const n = 40000
	return map[string]string{
		"dotted_ones":  strings.Repeat("1.", n/2),
		"dotted_words": strings.Repeat("a.", n/2),
		"colons":       strings.Repeat("a:", n/2),
		"at_signs":     strings.Repeat("a@", n/2),
		"open_angles":  strings.Repeat("<", n),
		"angle_pairs":  strings.Repeat("<a", n/2) + ">",
		"brackets":     strings.Repeat("[.]", n/3),
		"schemes":      strings.Repeat("http://", n/7),
		"path_commas":  "http://a.com/" + strings.Repeat(",", n),
		"close_parens": "http://a.com/" + strings.Repeat(")", n),
		"spelled_dots": strings.Repeat("a dot ", n/6),
		"spelled_at":   strings.Repeat("a AT ", n/5),
		"hex_runs":     strings.Repeat("f", n),
		"quotes":       "'http://a.com/" + strings.Repeat("'", n),
		"zero_width":   strings.Repeat("a\u200D", n/4),
		"path_schemes": "http://a.com/" + strings.Repeat("http//a", n/7),
		"apostrophes":  strings.Repeat("a'", n/4) + strings.Repeat("a'a@a.com ", n/20),
	}
}

func BenchmarkExtract(b *testing.B) {
	text := chatText(1 << 20)
	b.Run("chat_1MB", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			Extract(text)
		}
	})
	for name, text := range hostileInputs() {
		b.Run("hostile_"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Extract(text)
			}
		})
	}
}

// BenchmarkXurlsStrict is the baseline for BenchmarkExtract/chat_1MB: the
// strict xurls regexp over the same text.
func BenchmarkXurlsStrict(b *testing.B) {
	text := chatText(1 << 20)
	re := xurls.Strict()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		re.FindAllString(text, -1)
	}
}
