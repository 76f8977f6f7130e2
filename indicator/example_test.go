package indicator_test

import (
	"fmt"

	"github.com/ipqsbot/ipqsbot/indicator"
)

func ExampleExtract() {
	msg := "C2 at hxxps://login-example[.]net/a?x=1&amp;y=2 and 45.9.148[.]123, " +
		"pivot from 10.0.0.5, lure <mailto:billing@invoices-example.com|billing@invoices-example.com>"
	for _, in := range indicator.Extract(msg) {
		line := fmt.Sprintf("%s %s shown as %s", in.Kind, in.Value, in.Display)
		if in.Skipped != "" {
			line += " (skipped: " + in.Skipped + ")"
		}
		fmt.Println(line)
	}
	// Output:
	// url https://login-example.net/a?x=1&y=2 shown as hxxps://login-example[.]net/a?x=1&y=2
	// ip 45.9.148.123 shown as 45.9.148[.]123
	// ip 10.0.0.5 shown as 10.0.0[.]5 (skipped: private address)
	// email billing@invoices-example.com shown as billing[@]invoices-example[.]com
}

func ExampleParse() {
	in, err := indicator.Parse(indicator.KindURL, "evil[.]com")
	fmt.Println(in.Kind, in.Value, err)

	_, err = indicator.Parse(indicator.KindIP, "not-an-ip")
	fmt.Println(err)
	// Output:
	// url http://evil.com <nil>
	// "not-an-ip" is not an IP address: use a form like 203.0.113.7 or 2001:db8::1
}
