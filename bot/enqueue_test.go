package bot

import (
	"strings"
	"testing"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// TestGroupPostsAreMarkedForTheDailyBudget: every part of a message to a work
// group is marked as a post to that group, and nothing else is (replies in
// the group, app messages), so that the group's daily budget counts only
// what the bot chose to post.
func TestGroupPostsAreMarkedForTheDailyBudget(t *testing.T) {
	o := testOutbox()
	in := &models.Inbound{Route: models.RouteRobot, MsgID: "m1", ChatID: "wrkGroup", ChatType: "group", FromUserID: "zhangsan", ReplyURL: "https://example.com/hook"}
	long := msg.Plain(msg.ToGroup(""), strings.Repeat(strings.Repeat("报", 100)+"\n", 20))
	for _, c := range []struct {
		name  string
		m     msg.Message
		split bool
		group string
		post  bool
	}{
		{"default group, split", long, true, "", true},
		{"another group", msg.Plain(msg.ToGroup("hh"), "公告"), false, "hh", true},
		{"reply in the group", msg.Plain(msg.ReplyTo(in), "已收到"), false, "", false},
		{"members", msg.Plain(msg.ToMembers("a", "b"), "通知"), false, "", false},
	} {
		rows := o.Render(c.m)
		if (len(rows) > 1) != c.split || len(rows) == 0 {
			t.Fatalf("%s: %d rows", c.name, len(rows))
		}
		for i, r := range rows {
			if r.GroupPost != c.post || r.Group != c.group {
				t.Errorf("%s, part %d: group post %v of %q, want %v of %q", c.name, i+1, r.GroupPost, r.Group, c.post, c.group)
			}
		}
	}
}

// TestGroupPostsByTheAIBotAreMarked: where the AI bot's long connection
// posts to the group, its posts count as the group's too.
func TestGroupPostsByTheAIBotAreMarked(t *testing.T) {
	c := config.Default().WeCom
	c.AIBot.Mode, c.AIBot.ChatID = config.AIBotWebSocket, "wrkGroup"
	rows := NewOutbox(c).Render(msg.Plain(msg.ToGroup(""), "公告"))
	if len(rows) != 1 || rows[0].Channel == channelRobot || !rows[0].GroupPost {
		t.Errorf("AI bot group post: %+v", rows)
	}
}
