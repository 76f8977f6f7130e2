// Package testredis gives tests the address of the Redis server that
// .ci/run starts.
package testredis

import (
	"os"
	"testing"
)

// EnvVar names the variable that holds the test server's URL.
const EnvVar = "IPQSBOT_TEST_REDIS_URL"

// URL returns the URL of the test Redis server. CI must provide one, so
// there a missing URL fails the test; elsewhere the test is skipped.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvVar); u != "" {
		return u
	}
	const msg = EnvVar + " is not set; .ci/run starts Redis"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
