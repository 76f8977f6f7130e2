package guard

import (
	"strings"
	"testing"
)

func TestChannelPolicyAutoEnrich(t *testing.T) {
	tests := []struct {
		name      string
		policy    ChannelPolicy
		channel   string
		extShared bool
		want      bool
		reason    string
	}{
		{"default allows", ChannelPolicy{}, "C0GENERAL", false, true, ""},
		{"default skips shared", ChannelPolicy{}, "C0PARTNER", true, false, "AUTO_ENRICH_SHARED_CHANNELS"},
		{"shared allowed", ChannelPolicy{AllowShared: true}, "C0PARTNER", true, true, ""},
		{"off", ChannelPolicy{Off: true}, "C0GENERAL", false, false, "AUTO_ENRICH_CHANNELS=none"},
		{"off wins over list", ChannelPolicy{Off: true, Channels: []string{"C0GENERAL"}}, "C0GENERAL", false, false, "AUTO_ENRICH_CHANNELS=none"},
		{"listed", ChannelPolicy{Channels: []string{"C0SOC", "G0IR"}}, "G0IR", false, true, ""},
		{"not listed", ChannelPolicy{Channels: []string{"C0SOC"}}, "C0GENERAL", false, false, "not in AUTO_ENRICH_CHANNELS"},
		{"listed shared still needs setting", ChannelPolicy{Channels: []string{"C0PARTNER"}}, "C0PARTNER", true, false, "AUTO_ENRICH_SHARED_CHANNELS"},
		{"listed shared allowed", ChannelPolicy{Channels: []string{"C0PARTNER"}, AllowShared: true}, "C0PARTNER", true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := tt.policy.AutoEnrich(tt.channel, tt.extShared)
			if got != tt.want {
				t.Errorf("AutoEnrich(%q, %t) = %t, want %t", tt.channel, tt.extShared, got, tt.want)
			}
			if tt.reason == "" && reason != "" {
				t.Errorf("reason = %q, want none", reason)
			}
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}
