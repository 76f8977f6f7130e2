package handlers

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text       string
		wantAction Action
		wantKind   ipqs.Kind
		wantParams map[string]string
	}{
		{"", ActionHelp, "", nil},
		{"  HELP ", ActionHelp, "", nil},
		{"status", ActionStatus, "", nil},
		{"185.220.101.4", ActionDetect, "", nil},
		{"ip 185.220.101.4", ActionLookup, ipqs.KindIP, map[string]string{}},
		{`ip 185.220.101.4 strictness=3 fast=TRUE user_agent="Mozilla/5.0 (X11; Linux)" transaction_strictness=2`, ActionLookup, ipqs.KindIP,
			map[string]string{"strictness": "3", "fast": "true", "user_agent": "Mozilla/5.0 (X11; Linux)", "transaction_strictness": "2"}},
		{"url hxxps://login-example[.]com/x timeout=10 strictness=0", ActionLookup, ipqs.KindURL, map[string]string{"timeout": "10", "strictness": "0"}},
		{"email user@example.com timeout=60 abuse_strictness=1", ActionLookup, ipqs.KindEmail, map[string]string{"timeout": "60", "abuse_strictness": "1"}},
		{`ip 185.220.101.4 user_agent=“curl/8.0”`, ActionLookup, ipqs.KindIP, map[string]string{"user_agent": "curl/8.0"}},
		{`ip 185.220.101.4 user_language=en&amp;de`, ActionLookup, ipqs.KindIP, map[string]string{"user_language": "en&de"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if got.Action != tt.wantAction || got.Kind != tt.wantKind {
				t.Errorf("action, kind = %v, %q; want %v, %q", got.Action, got.Kind, tt.wantAction, tt.wantKind)
			}
			for name, want := range tt.wantParams {
				if got.Params[name] != want {
					t.Errorf("param %s = %q, want %q", name, got.Params[name], want)
				}
			}
			if len(got.Params) != len(tt.wantParams) {
				t.Errorf("params = %v, want %v", got.Params, tt.wantParams)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"ip", "needs a value"},
		{"ip not-an-ip", "not-an-ip"},
		{"ip 185.220.101.4 strictness=4", "from 0 to 3"},
		{"ip 185.220.101.4 strictness=high", "whole number"},
		{"ip 185.220.101.4 timeout=5", `unknown parameter "timeout" for ip lookups`},
		{"url hxxps://evil[.]com timeout=11", "from 1 to 10"},
		{"url hxxps://evil[.]com fast=maybe", "true or false"},
		{"email a@example.com timeout=0", "from 1 to 60"},
		{"email a@example.com abuse_strictness=3", "from 0 to 2"},
		{"ip 185.220.101.4 strictness", "not a parameter"},
		{`ip 185.220.101.4 user_agent="Mozilla`, "double quote is not closed"},
		{"status now", "status takes no arguments"},
		{"ip 185.220.101.4 strictness=1 Strictness=2", "strictness is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseCommand(tt.text)
			if err == nil {
				t.Fatal("ParseCommand succeeded, want an error")
			}
			if _, ok := errors.AsType[*UsageError](err); !ok {
				t.Errorf("error %T is not a *UsageError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
