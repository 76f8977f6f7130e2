package slacksim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

func Example() {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))
	_, _, err := api.PostMessageContext(ctx, "C1",
		slack.MsgOptionText("8.8.8.8 is clean", false),
		slack.MsgOptionBlocks(slack.NewDividerBlock()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	posts, err := sim.WaitPosts(ctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(posts[0].Method, posts[0].Channel, posts[0].Text, string(posts[0].Blocks))
	// Output: chat.postMessage C1 8.8.8.8 is clean [{"type":"divider"}]
}
