package bot_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// The street's robot of the group tests: its webhook key and callback crypto.
const (
	hhKey    = "street-robot-key-hh-0001"
	hhToken  = "StreetToken77"
	hhAESKey = "StreetRobotCallbackKeyForTheTestsOnly000001"
)

// groupKit is a kit with two work groups besides an unconfigured one: the
// district's (qu, chat wrkQu, posted by wecom.robot), the street's (hh,
// chat wrkHh, by its own robot of wecom.robots) and one without a chat (nc).
func groupKit(t *testing.T, s *models.Store, clock *wecomtest.Clock) *kit {
	t.Helper()
	fake := wecomtest.New(wecomtest.WithCorp(sampleCorpID, corpSecret, agentID), wecomtest.WithWebhookKeys(robotKey, hhKey))
	fake.Now = clock.Now
	fake.Start()
	t.Cleanup(fake.Close)
	k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: fake, wecomCfg: func(c *config.WeCom) {
		c.Robots = map[string]config.Robot{"hh": {WebhookKey: hhKey, Token: hhToken, AESKey: hhAESKey}}
	}})
	ctx := context.Background()
	for _, g := range []models.Group{
		{Code: "qu", Name: "区联系服务群众工作群", ChatID: "wrkQu", Sort: 1},
		{Code: "hh", Name: "环海街道工作群", ChatID: "wrkHh", Robot: "hh", Sort: 2},
		{Code: "nc", Name: "未建群", Sort: 3},
	} {
		if _, err := s.UpsertGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpsertMember(ctx, &models.Member{UserID: "admin1", Name: "管理员", Role: models.RoleAdmin, Active: true}); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestGroupPostsGoToTheirGroupsChatByTheirRobot: a message to a group goes
// to the group's chat, by the group's robot (wecom.robot when it names
// none); the default group is the first; a group without a chat is never
// posted to (WeCom would post to every group of the robot): the row fails
// at once, the log says why, and the administrators are told.
func TestGroupPostsGoToTheirGroupsChatByTheirRobot(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := groupKit(t, s, clock)
		ctx := context.Background()
		post := func(group, text string) msg.Message {
			m := msg.Plain(msg.ToGroup(group), text)
			m.DedupeKey = "post/" + text
			return m
		}
		if n, err := k.bot.Outbox().Enqueue(ctx, s, post("qu", "区群通知"), post("hh", "街道群通知"), post("", "默认群通知"), post("nc", "无群号通知")); err != nil || n != 4 {
			t.Fatalf("enqueued %d: %v", n, err)
		}
		if _, err := k.bot.Outbox().Enqueue(ctx, s, post("nope", "不存在")); err == nil || !strings.Contains(err.Error(), `no work group "nope"`) {
			t.Errorf("a message to an unknown group: %v", err)
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		type sent struct{ key, chat string }
		got := map[string]sent{}
		var notices []string
		for _, r := range k.wecom.Messages() {
			if r.Route == wecomtest.RouteWebhook {
				got[r.Content] = sent{r.Key, r.ChatID}
			}
			if slices.Contains(r.ToUser, "admin1") {
				notices = append(notices, r.Content)
			}
		}
		want := map[string]sent{"区群通知": {robotKey, "wrkQu"}, "街道群通知": {hhKey, "wrkHh"}, "默认群通知": {robotKey, "wrkQu"}}
		if len(got) != len(want) {
			t.Errorf("webhook posts %v, want %v", got, want)
		}
		for text, w := range want {
			if got[text] != w {
				t.Errorf("%s went to key %s… chat %q, want %s… %q", text, got[text].key[:4], got[text].chat, w.key[:4], w.chat)
			}
		}
		groups := map[string]string{}
		for _, r := range k.outbox() {
			if r.GroupPost {
				groups[r.Body] = r.Group
				if r.Body == "无群号通知" && (r.Status != models.OutboxFailed || r.Attempts != 1) {
					t.Errorf("the post without a chat: %s after %d attempts", r.Status, r.Attempts)
				}
			}
		}
		if groups["默认群通知"] != "qu" || groups["街道群通知"] != "hh" || groups["无群号通知"] != "nc" {
			t.Errorf("posts counted against groups %v", groups)
		}
		if len(notices) != 1 || !strings.Contains(notices[0], "工作群未配置群聊 chat_id") || !strings.Contains(notices[0], "无群号通知") {
			t.Errorf("admin notices: %q", notices)
		}
		if logs := k.logs.String(); !strings.Contains(logs, "a group post names no chat id") {
			t.Errorf("no log line says why the post was refused:\n%s", logs)
		}
		assertNoSecrets(t, "logs", k.logs.String(), hhKey, hhToken, hhAESKey)
	})
}

// TestEveryRobotCallsBackOnTheRobotRoute: /wecom/robot takes the callbacks
// of wecom.robot and of each robot of wecom.robots, each signed with its own
// token; one signed with a token of none is refused.
func TestEveryRobotCallsBackOnTheRobotRoute(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := groupKit(t, s, clock)
		street := k.signer(hhToken, hhAESKey, "")
		stranger := k.signer("StrangerToken", "StrangerRobotCallbackKeyNobodyConfigured001", "")
		for _, c := range []struct {
			name   string
			signer *wecomtest.CallbackSigner
			chat   string
			want   int
		}{
			{"the district's robot", k.robot, "wrkQu", http.StatusOK},
			{"the street's robot", street, "wrkHh", http.StatusOK},
			{"a robot nobody configured", stranger, "wrkX", http.StatusUnauthorized},
		} {
			m := wecomtest.RobotMessage{WebhookURL: k.wecom.WebhookURL(robotKey), ChatID: c.chat, UserID: "zhangsan", Content: "未报"}
			if status, _ := k.to("robot")(c.signer.RobotText(m)); status != c.want {
				t.Errorf("%s: %d, want %d", c.name, status, c.want)
			}
		}
		var chats []string
		for _, in := range k.inbound() {
			chats = append(chats, in.ChatID)
		}
		if !slices.Equal(chats, []string{"wrkQu", "wrkHh"}) {
			t.Errorf("stored the callbacks of chats %v", chats)
		}
	})
}
