package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// The AI bot of the long connection tests.
const (
	aibotID     = "aibLongConn01"
	aibotSecret = "aibot-ws-secret-5d1c"
	groupChat   = "wrkGroupWS"
)

func init() { secrets = append(secrets, aibotSecret) }

// aibotAlone configures the AI bot on its long connection to the kit's
// fake, and nothing else: no robot, no app.
func aibotAlone(fake *wecomtest.Server, chat string) func(*config.WeCom) {
	return func(c *config.WeCom) {
		c.Robot, c.AppCallback, c.CorpID, c.AgentID, c.Secret = config.Robot{}, config.Callback{}, "", 0, ""
		c.AIBot = config.AIBot{Mode: config.AIBotWebSocket, BotID: aibotID, Secret: aibotSecret, WSURL: fake.WSURL(), ChatID: chat}
	}
}

// wsFake is a fake WeCom that knows the test AI bot.
func wsFake(t testing.TB, clock *wecomtest.Clock) *wecomtest.Server {
	f := wecomtest.New(wecomtest.WithAIBot(aibotID, aibotSecret))
	if clock != nil {
		f.Now = clock.Now
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// answering is a handler that answers every message "收到：" and its text,
// and counts the times it handled each message.
type answering struct {
	store  *models.Store
	outbox *bot.Outbox
	mu     sync.Mutex
	seen   map[string]int
}

func newAnswering(k *kit) *answering {
	return &answering{store: k.store, outbox: k.bot.Outbox(), seen: map[string]int{}}
}

func (a *answering) Handle(ctx context.Context, in *models.Inbound) error {
	a.mu.Lock()
	a.seen[in.MsgID]++
	a.mu.Unlock()
	if strings.HasPrefix(in.MsgType, "event/") {
		return nil
	}
	m := msg.Plain(msg.ReplyTo(in), "收到："+in.Text)
	m.DedupeKey = "answer/" + in.MsgID
	_, err := a.outbox.Enqueue(ctx, a.store, m)
	return err
}

func (a *answering) times(msgID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[msgID]
}

// chatOf names the chat of a reply or push: the group's chatid, or the
// member of a single chat.
func chatOf(r wecomtest.Request) string {
	if r.ChatType == "group" {
		return r.ChatID
	}
	return strings.Join(r.ToUser, "|")
}

// byChat returns the contents of the deliveries on a route, by chat (rows to
// different chats go in parallel, in any order).
func byChat(f *wecomtest.Server, route wecomtest.Route) map[string][]string {
	out := map[string][]string{}
	for _, r := range delivered(f, route) {
		out[chatOf(r)] = append(out[chatOf(r)], r.Content)
	}
	return out
}

// delivered returns what the fake delivered on a route.
func delivered(f *wecomtest.Server, route wecomtest.Route) []wecomtest.Request {
	var out []wecomtest.Request
	for _, r := range f.Messages() {
		if r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

func TestTheAIBotAloneReceivesRepliesAndPosts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		fake := wsFake(t, clock)
		k := newKit(t, "", kitOptions{store: s, clock: clock, wecom: fake, wecomCfg: aibotAlone(fake, groupChat)})
		h := newAnswering(k)
		k.bot.Start(h)
		eventually(t, "the bot subscribed", fake.AIBotConnected)

		// A head's report in the group is answered in the group, on the connection.
		if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "g1", ChatID: groupChat, UserID: "zhangsan", BotName: botName, Content: "日报 今日办结 3 件"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the reply", func() bool { return len(delivered(fake, wecomtest.RouteRespond)) == 1 })
		r := delivered(fake, wecomtest.RouteRespond)[0]
		if r.Content != "收到：日报 今日办结 3 件" || r.ChatID != groupChat || r.MsgType != "stream" || !r.Finish {
			t.Errorf("reply %q to %s (%s, finished %v)", r.Content, chatOf(r), r.MsgType, r.Finish)
		}
		in := k.inbound()
		if len(in) != 1 || in[0].Route != models.RouteAIBot || in[0].MsgID != "g1" || in[0].FromUserID != "zhangsan" ||
			in[0].ChatType != "group" || in[0].Text != "日报 今日办结 3 件" || !strings.HasPrefix(in[0].ReplyURL, "ws:") {
			t.Fatalf("stored %+v", in)
		}
		assertNoSecrets(t, "the stored reply reference", in[0].ReplyURL)

		// The same frame again (WeCom unsure it arrived) is stored and handled once.
		if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "g1", ChatID: groupChat, UserID: "zhangsan", BotName: botName, Content: "日报 今日办结 3 件"}); err != nil {
			t.Fatal(err)
		}
		// A single chat is answered in the single chat.
		if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "p1", ChatType: "single", UserID: "lisi", Content: "未报"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the single-chat reply", func() bool { return len(delivered(fake, wecomtest.RouteRespond)) == 2 })
		if got := byChat(fake, wecomtest.RouteRespond)["lisi"]; len(got) != 1 || got[0] != "收到：未报" {
			t.Errorf("single-chat reply %q", got)
		}
		if n := len(k.inbound()); n != 2 || h.times("g1") != 1 {
			t.Errorf("%d messages stored, g1 handled %d times", n, h.times("g1"))
		}

		// Group posts and messages to members go by aibot_send_msg: to the
		// group's chat, and to each member's single chat.
		report := msg.Message{To: msg.ToGroup(""), Title: "日报", Sections: []msg.Section{msg.S(msg.H(msg.Strong("高新区日报")), msg.L(msg.Text("未报："), msg.Bad("2")))}}
		notice := msg.Plain(msg.ToMembers("wangwu", "zhaoliu"), "请于17:30前报送日报")
		if _, err := k.bot.Outbox().Enqueue(context.Background(), k.store, report, notice); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the pushes", func() bool { return len(delivered(fake, wecomtest.RouteSendMsg)) == 3 })
		pushes := byChat(fake, wecomtest.RouteSendMsg)
		if got := strings.Join(pushes[groupChat], "|"); got != "# **高新区日报**  \n未报：**2**" {
			t.Errorf("group push %q", got)
		}
		for _, u := range []string{"wangwu", "zhaoliu"} {
			if got := strings.Join(pushes[u], "|"); got != "请于17:30前报送日报" {
				t.Errorf("push to %s: %q", u, got)
			}
		}
		if got := k.bot.Health(); got != nil {
			t.Errorf("health: %v", got)
		}
		assertNoSecrets(t, "the logs", k.logs.String())
	})
}

func TestARepliesReqIDNoLongerValidGoesToTheChat(t *testing.T) {
	clock := wecomtest.NewClock(t0)
	fake := wsFake(t, clock)
	k := newKit(t, "sqlite", kitOptions{clock: clock, wecom: fake, wecomCfg: aibotAlone(fake, groupChat)})
	h := newAnswering(k)
	k.bot.Start(h)
	eventually(t, "the bot subscribed", fake.AIBotConnected)
	if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "m1", ChatID: groupChat, UserID: "zhangsan", Content: "查 D1"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first reply", func() bool { return len(delivered(fake, wecomtest.RouteRespond)) == 1 })
	in := k.inbound()[0]
	conn, _, _ := strings.Cut(strings.TrimPrefix(in.ReplyURL, "ws:"), ":")
	for i, ref := range []string{
		"ws:" + conn + ":req-wecom-forgot", // this connection, a req_id WeCom does not take (846605)
		"ws:0a1b2c3d:" + "req-old",         // a connection gone since
	} {
		stale := in
		stale.ReplyURL, stale.MsgID = ref, fmt.Sprint("stale", i)
		if _, err := k.bot.Outbox().Enqueue(context.Background(), k.store, msg.Plain(msg.ReplyTo(&stale), fmt.Sprint("答复", i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "both pushed", func() bool { return len(delivered(fake, wecomtest.RouteSendMsg)) == 2 })
	if got := byChat(fake, wecomtest.RouteSendMsg)[groupChat]; len(got) != 2 || got[0] == got[1] || !strings.HasPrefix(got[0]+got[1], "答复") {
		t.Errorf("pushes to the group: %q", got)
	}
	var refused int
	for _, r := range fake.Requests() {
		if r.Route == wecomtest.RouteRespond && r.Errcode == wecomtest.ErrcodeInvalidReqID {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d replies refused for their req_id, want the one on this connection", refused)
	}
	eventually(t, "every row recorded as sent", func() bool {
		for _, row := range k.outbox() {
			if row.Status != models.OutboxSent {
				return false
			}
		}
		return true
	})
}
