package indicator

import (
	"bufio"
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// extractCase is one line of testdata/extract.jsonl: a message and the
// refanged indicators expected from it, per kind.
type extractCase struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	URLs    []string `json:"urls"`
	IPs     []string `json:"ips"`
	Emails  []string `json:"emails"`
	Domains []string `json:"domains"`
	Note    string   `json:"note"`
}

// knownWrong lists the cases whose expected values this package does not
// meet on purpose, with the reason.
var knownWrong = map[string]string{}

func loadCases(t *testing.T, path string) []extractCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var cases []extractCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c extractCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// comparable returns the form in which two values of kind k are equal:
// IPs by parsed value, URLs without a default port, hosts in punycode and
// email addresses case-insensitively.
func comparable(k Kind, v string) string {
	switch k {
	case KindIP:
		if addr, err := netip.ParseAddr(v); err == nil {
			return addr.Unmap().String()
		}
	case KindURL:
		u, err := splitURL(v, true)
		if err != nil {
			return v
		}
		if u.port == "80" && u.scheme == "http" || u.port == "443" && u.scheme == "https" || u.port == "21" && u.scheme == "ftp" {
			u.port = ""
		}
		return u.join(asciiHost(u.host))
	case KindDomain:
		return strings.ToLower(asciiHost(v))
	case KindEmail:
		at := strings.LastIndexByte(v, '@')
		if at >= 0 {
			return strings.ToLower(v[:at+1] + asciiHost(v[at+1:]))
		}
	}
	return v
}

func comparableSet(k Kind, values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, comparable(k, v))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestExtractCases(t *testing.T) {
	runCases(t, loadCases(t, "testdata/extract.jsonl"))
}

// TestExtractVariants runs testdata/variants.jsonl: for each rule of the
// package doc, forms and contexts that testdata/extract.jsonl does not have.
func TestExtractVariants(t *testing.T) {
	runCases(t, loadCases(t, "testdata/variants.jsonl"))
}

func runCases(t *testing.T, cases []extractCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if reason, ok := knownWrong[c.ID]; ok {
				t.Skipf("expected value judged wrong: %s", reason)
			}
			got := map[Kind][]string{}
			for _, in := range Extract(c.Text) {
				got[in.Kind] = append(got[in.Kind], in.Value)
			}
			want := map[Kind][]string{KindURL: c.URLs, KindIP: c.IPs, KindEmail: c.Emails, KindDomain: c.Domains}
			for _, k := range []Kind{KindURL, KindIP, KindEmail, KindDomain} {
				g, w := comparableSet(k, got[k]), comparableSet(k, want[k])
				if !slices.Equal(g, w) {
					t.Errorf("%s: got %q, want %q\ntext: %q\nnote: %s", k, got[k], want[k], c.Text, c.Note)
				}
			}
		})
	}
}
