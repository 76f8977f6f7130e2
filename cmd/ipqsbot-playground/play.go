package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

const (
	// replyTimeout bounds the wait for the reply to a command, mention or DM.
	replyTimeout = 20 * time.Second

	// quietWait is how long a pasted message may stay unanswered before the
	// playground reports no reply. The bot stays silent on text without
	// indicators of the kinds in AUTO_ENRICH_KINDS.
	quietWait = 1500 * time.Millisecond

	// dmChannel is the direct message channel. Slack's DM channel IDs start
	// with D.
	dmChannel = "D0PLAYGROUND"

	maxLineBytes = 1 << 20
)

// play reads input lines and sends each as a Slack user would, until quit,
// the end of input, the end of ctx or the end of the bot process.
func (s *session) play(ctx context.Context, input io.Reader, interactive bool) {
	lines := make(chan string)
	done := make(chan struct{})
	defer close(done)
	go readLines(input, lines, done)

	for {
		if interactive {
			fmt.Fprint(s.out, "> ")
		}

		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			fmt.Fprintln(s.out, "\ninterrupted")
			return
		case <-s.exited:
			return
		}
		if !ok {
			s.showLatePosts()
			return
		}
		if !interactive {
			fmt.Fprintf(s.out, "> %s\n", line)
		}

		s.showLatePosts()
		if !s.handle(ctx, line) {
			return
		}
	}
}

// readLines sends each line of input to lines and closes lines at the end of
// input. It returns early once done is closed.
func readLines(input io.Reader, lines chan<- string, done <-chan struct{}) {
	defer close(lines)
	scanner := bufio.NewScanner(input)
	scanner.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	for scanner.Scan() {
		select {
		case lines <- scanner.Text():
		case <-done:
			return
		}
	}
}

// handle plays one input line and returns false after quit.
func (s *session) handle(ctx context.Context, line string) bool {
	noReply := fmt.Sprintf("(no reply within %v)", replyTimeout)
	line = strings.TrimSpace(line)
	word, text := splitWord(line)

	switch {
	case line == "":
		return true
	case line == "quit":
		return false
	case word == "/ipqs":
		id := s.sim.SlashCommand(slacksim.SlashCommand{Text: text})
		s.showReply(ctx, replyTimeout, noReply, func(p slacksim.Post) bool { return p.EnvelopeID == id })
	case word == "@" || word == "@ipqs":
		ref := s.sim.Mention("", "", text)
		s.showReply(ctx, replyTimeout, noReply, inThread(ref.Channel, ref.TS))
	case word == "dm":
		ref := s.sim.Message(dmChannel, "", text)
		s.showReply(ctx, replyTimeout, noReply, inThread(ref.Channel, ref.TS))
	case word == "paste":
		ref := s.sim.Message("", "", text)
		s.showReply(ctx, quietWait, "(no reply)", inThread(ref.Channel, ref.TS))
	default:
		ref := s.sim.Message("", "", line)
		s.showReply(ctx, quietWait, "(no reply)", inThread(ref.Channel, ref.TS))
	}
	return true
}

// splitWord splits line at its first run of white space.
func splitWord(line string) (word, rest string) {
	i := strings.IndexFunc(line, unicode.IsSpace)
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimSpace(line[i:])
}

// inThread matches a post in the thread of the message ts in channel.
func inThread(channel, ts string) func(slacksim.Post) bool {
	return func(p slacksim.Post) bool { return p.Channel == channel && p.ThreadTS == ts }
}

// showReply waits up to timeout for a post that match accepts and prints
// it, or prints silence when none arrives.
func (s *session) showReply(ctx context.Context, timeout time.Duration, silence string, match func(slacksim.Post) bool) {
	p, ok := s.waitPost(ctx, timeout, match)
	switch {
	case ok:
		printPost(s.out, p, s.jsonBlocks)
	case ctx.Err() == nil:
		fmt.Fprintln(s.out, silence)
	}
}

// waitPost returns the first post not shown yet that match accepts, waiting
// up to timeout for it. It gives up early when the bot exits.
func (s *session) waitPost(ctx context.Context, timeout time.Duration, match func(slacksim.Post) bool) (slacksim.Post, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	go func() {
		select {
		case <-s.exited:
			cancel()
		case <-ctx.Done():
		}
	}()

	for n := 1; ; n++ {
		posts, err := s.sim.WaitPosts(ctx, n)
		if err != nil {
			return slacksim.Post{}, false
		}
		if i := n - 1; !s.printed[i] && match(posts[i]) {
			s.printed[i] = true
			return posts[i], true
		}
	}
}

// showLatePosts prints the posts that arrived after their wait ended, or
// that matched no input line.
func (s *session) showLatePosts() {
	for i, p := range s.sim.Posts() {
		if s.printed[i] {
			continue
		}
		s.printed[i] = true
		fmt.Fprintln(s.out, "(late or extra post)")
		printPost(s.out, p, s.jsonBlocks)
	}
}
