// Package slacksim is a local Slack for tests: a Web API and a Socket Mode
// WebSocket endpoint on 127.0.0.1. The real slack-go client
// (github.com/slack-go/slack v0.36, package socketmode) runs against it,
// in-process or as a built binary that is given APIURL and the tokens.
//
// The Web API serves auth.test, apps.connections.open, chat.postMessage,
// chat.postEphemeral and chat.update; other methods return
// {"ok":false,"error":"unknown_method"}. Tokens are read from the "token"
// form field or an "Authorization: Bearer" header. apps.connections.open
// takes the app token only and returns a one-time ws:// URL.
//
// Socket Mode connections get a hello message, WebSocket pings every
// Options.PingInterval, and the envelopes that the test sends with
// SlashCommand, Mention, Message, Event, ButtonClick, Interactive and Raw.
// Envelopes sent while no socket is open wait for the next one. With
// Options.MaxRedeliveries above zero, an Events API envelope that stays
// unacknowledged for Options.AckTimeout is sent again in a new envelope
// with the same event_id, a higher retry_attempt and retry_reason
// "timeout", as Slack does. Slash commands and interactions are never
// redelivered.
//
// A test plays users and then inspects what the app did:
//
//	sim := slacksim.New(slacksim.Options{MaxRedeliveries: 3})
//	defer sim.Close()
//
//	api := slack.New(sim.BotToken(),
//		slack.OptionAppLevelToken(sim.AppToken()),
//		slack.OptionAPIURL(sim.APIURL()))
//	client := socketmode.New(api)
//	go client.RunContext(ctx) // plus a loop that handles client.Events
//
//	if err := sim.WaitConnected(ctx); err != nil { … }
//	id := sim.SlashCommand(slacksim.SlashCommand{Text: "8.8.8.8"})
//	ack, err := sim.WaitAck(ctx, id)   // ack.Payload, ack.Latency
//	posts, err := sim.WaitPosts(ctx, 1) // posts[0].Blocks, posts[0].EnvelopeID
//
//	sim.Disconnect(slacksim.ReasonRefreshRequested)
//	err = sim.WaitConnections(ctx, 2) // the client reconnected
//
// Every method of Sim is safe for concurrent use. Close ends all sockets
// and goroutines the simulator started.
package slacksim
