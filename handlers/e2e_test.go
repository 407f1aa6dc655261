package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// Credentials of the test corp and its callbacks.
const (
	corpID     = "wwe2ecorp0001"
	corpSecret = "e2e-corp-secret"
	agentID    = 1000002
	robotKey   = "e2e-robot-key"
)

// wire is the whole path of a message: a signed callback to the bot's real
// routes, the bot storing it and calling the handler, the outbox worker
// sending the answers to the fake WeCom, which records them.
type wire struct {
	*harness
	wecom             *wecomtest.Server
	bot               *bot.Bot
	url               string
	robot, app, aibot *wecomtest.CallbackSigner
	seenCalls         int
	msg               int
}

func newWire(t *testing.T, driver string) *wire {
	t.Helper()
	w := &wire{harness: newHarness(t, driver)}
	w.wecom = wecomtest.New(wecomtest.WithCorp(corpID, corpSecret, agentID), wecomtest.WithWebhookKeys(robotKey))
	w.wecom.Now = w.clock.Now
	w.wecom.Start()
	t.Cleanup(w.wecom.Close)
	w.cfg.WeCom = config.WeCom{
		APIBase: w.wecom.URL(), CorpID: corpID, AgentID: agentID, Secret: corpSecret,
		ReplayWindow: config.Duration(10 * time.Minute), BotName: "雁阵",
		AppCallback: config.Callback{Token: "AppToken", AESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
		Robot:       config.Robot{WebhookKey: robotKey, ChatID: "wrkgroup", Token: "RobotToken", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
		AIBot:       config.AIBot{Token: "AIBotToken", AESKey: "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"},
	}
	b, err := bot.New(w.store, bot.Options{
		WeCom: w.cfg.WeCom, Now: w.clock.Now,
		Outbox: config.Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: config.Duration(time.Hour), PollEvery: config.Duration(10 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.bot, w.files.b = b, b
	// The handler sends through the bot's outbox, which knows the group's chat.
	if w.h, err = handlers.New(w.options(b.Outbox())); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	b.Register(mux)
	srv := httptest.NewServer(mux)
	w.url = srv.URL
	b.Start(w.h)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("bot shutdown: %v", err)
		}
		_ = b.Close()
	})
	c := w.cfg.WeCom
	w.robot = w.signer(c.Robot.Token.Reveal(), c.Robot.AESKey.Reveal(), "")
	w.app = w.signer(c.AppCallback.Token.Reveal(), c.AppCallback.AESKey.Reveal(), corpID)
	w.aibot = w.signer(c.AIBot.Token.Reveal(), c.AIBot.AESKey.Reveal(), "")
	return w
}

func (w *wire) signer(token, key, receiveID string) *wecomtest.CallbackSigner {
	s, err := wecomtest.NewCallbackSigner(token, key, receiveID)
	if err != nil {
		w.t.Fatal(err)
	}
	s.Now = w.clock.Now
	return s
}

// eachWire runs f end to end on every database.
func eachWire(t *testing.T, f func(t *testing.T, w *wire)) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) { f(t, newWire(t, driver)) })
	}
}

// delivered is what WeCom delivered for one message.
type delivered struct {
	t     *testing.T
	calls []wecomtest.Request
}

// group @-mentions the bot with text in the work group, as from sends it,
// and returns what WeCom delivered once the bot has handled it.
func (w *wire) group(from, text string) delivered {
	w.t.Helper()
	w.msg++
	id := fmt.Sprintf("robot-%d", w.msg)
	cb, err := w.robot.RobotText(wecomtest.RobotMessage{
		WebhookURL: w.wecom.WebhookURL(robotKey), MsgID: id, ChatID: "wrkgroup", UserID: from, BotName: "雁阵", Content: text,
	})
	return w.deliver("robot", id, cb, err)
}

// private sends text to the self-built app, as from sends it.
func (w *wire) private(from, text string) delivered {
	w.t.Helper()
	w.msg++
	id := fmt.Sprint(7000 + w.msg)
	cb, err := w.app.AppText(wecomtest.AppMessage{FromUserName: from, Content: text, MsgID: id, AgentID: agentID})
	return w.deliver("app", id, cb, err)
}

// assistant @-mentions the AI bot with text in the work group.
func (w *wire) assistant(from, text string) delivered {
	w.t.Helper()
	w.msg++
	id := fmt.Sprintf("aibot-%d", w.msg)
	cb, err := w.aibot.AIBotText(wecomtest.AIBotMessage{
		MsgID: id, AIBotID: "aib1", ChatID: "wrkgroup", UserID: from, ResponseURL: w.wecom.ResponseURL("wrkgroup"), BotName: "雁阵", Content: text,
	})
	return w.deliver("aibot", id, cb, err)
}

// deliver posts a callback, waits for the bot to handle it, flushes the
// outbox and returns the messages WeCom received since the last delivery.
func (w *wire) deliver(route, msgID string, cb wecomtest.Callback, err error) delivered {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	w.post(route, cb)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var in models.Inbound
		err := w.store.DB(ctx).Where("route = ? AND msg_id = ?", route, msgID).Take(&in).Error
		if err == nil && in.HandledAt != nil {
			break
		}
		if err == nil && in.LastError != "" {
			w.t.Fatalf("handling failed: %s", in.LastError)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("message %s not handled: %v", msgID, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := w.flushed()
	for _, c := range d.calls {
		if !c.Delivered() {
			w.t.Errorf("WeCom refused %s: status %d errcode %d: %s", c.Route, c.Status, c.Errcode, c.Body)
		}
	}
	return d
}

// post posts a callback to the bot's route.
func (w *wire) post(route string, cb wecomtest.Callback) {
	w.t.Helper()
	req, err := cb.Request(w.url + "/wecom/" + route)
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("callback answered %d", resp.StatusCode)
	}
}

// flushed flushes the outbox and returns the messages WeCom received since
// the last call.
func (w *wire) flushed() delivered {
	w.t.Helper()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.bot.Flush(fctx); err != nil {
		w.t.Fatalf("flush: %v", err)
	}
	all := w.wecom.Messages()
	d := delivered{t: w.t, calls: all[w.seenCalls:]}
	w.seenCalls = len(all)
	return d
}

// robot returns the messages posted through the robot webhook.
func (d delivered) robot() []wecomtest.Request {
	var out []wecomtest.Request
	for _, c := range d.calls {
		if c.Route == wecomtest.RouteWebhook {
			out = append(out, c)
		}
	}
	return out
}

// to returns the content of the app message to exactly these members.
func (d delivered) to(userids ...string) string {
	d.t.Helper()
	for _, c := range d.calls {
		if c.Route == wecomtest.RouteMessage && slices.Equal(c.ToUser, userids) {
			if c.MsgType == "template_card" {
				return cardText(d.t, templateCard(d.t, c.Body))
			}
			return c.Content
		}
	}
	d.t.Fatalf("no app message to %v in %+v", userids, d.calls)
	return ""
}

// templateCard returns the template_card of an app message's body, or of
// a frame of the long connection.
func templateCard(t *testing.T, body []byte) []byte {
	t.Helper()
	var m struct {
		Card  json.RawMessage `json:"template_card"`
		Frame struct {
			Card json.RawMessage `json:"template_card"`
		} `json:"body"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Card == nil && m.Frame.Card == nil {
		t.Fatalf("no template_card in %s (%v)", body, err)
	}
	if m.Card == nil {
		return m.Frame.Card
	}
	return m.Card
}

func TestEndToEndReport(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		got := w.group("zhangsan", "日报 今日受理工单12件，办结10件。")
		robot := got.robot()
		if len(robot) != 1 || len(got.calls) != 1 {
			t.Fatalf("delivered %+v", got.calls)
		}
		if robot[0].Key != robotKey || robot[0].Content != "已收到住建局11月20日日报（第1版，16字）。" || !slices.Equal(robot[0].Mentions, []string{"zhangsan"}) {
			t.Errorf("confirmation %+v", robot[0])
		}
		// The same report privately is answered privately.
		got = w.private("zhangsan", "补充日报 另：巡查2次")
		if c := got.to("zhangsan"); c != "已更新住建局11月20日日报（第2版，23字）。" || len(got.calls) != 1 {
			t.Errorf("private confirmation %q (%d messages)", c, len(got.calls))
		}
		// Through the AI bot the answer goes to its response URL.
		got = w.assistant("wangwu", "未报")
		if len(got.calls) != 1 || got.calls[0].Route != wecomtest.RouteResponse || got.calls[0].Content != "11月20日尚未报送日报的单位（3个）：城管局、教育局、环海街道" {
			t.Errorf("AI bot answer %+v", got.calls)
		}
	})
}

func TestEndToEndDispatch(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		got := w.group("wangwu", "调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众")
		contains(t, "zhangsan's app message", got.to("zhangsan"), "【点对点调度 D1】", "交办住建局：办结并回复群众", "时限：11月21日（周六）12:00前")
		contains(t, "lisi's app message", got.to("lisi"), "交办环海街道：办结并回复群众")
		robot := got.robot()
		if len(robot) != 2 {
			t.Fatalf("robot messages %+v", robot)
		}
		announce := robot[1]
		if strings.HasPrefix(robot[0].Content, "【点对点调度") {
			announce = robot[0]
		}
		if !slices.Equal(announce.Mentions, []string{"zhangsan", "lisi"}) || announce.Key != robotKey {
			t.Errorf("group message mentions %v", announce.Mentions)
		}
		contains(t, "group message", announce.Content, "王五（区领导）交办：住建局、环海街道", "时限：11月21日（周六）12:00前")

		got = w.private("zhangsan", "签收 D1")
		contains(t, "sign reply", got.to("zhangsan"), "已签收调度 D1")
		contains(t, "sign notice", got.to("wangwu"), "住建局（张三）已签收")
		got = w.private("lisi", "反馈 D1 已联系群众，明天上午到现场")
		contains(t, "feedback notice", got.to("wangwu"), "环海街道（李四）反馈：\n已联系群众，明天上午到现场")
		got = w.group("zhangsan", "办结 D1 已修复路灯")
		contains(t, "done notice", got.to("wangwu"), "住建局（张三）报办结：\n已修复路灯", "办结进度：1/2")
		got = w.private("lisi", "办结 D1 已配合完成")
		contains(t, "last done notice", got.to("wangwu"), "全部单位已报办结")
		got = w.private("wangwu", "确认 D1")
		contains(t, "confirm reply", got.to("wangwu"), "调度 D1 已确认办结、销号。")
		contains(t, "confirm notice", got.to("zhangsan", "lisi"), "王五（区领导）已确认办结、销号。")
		if d, err := w.store.Dispatch(ctx, 1); err != nil {
			t.Fatal(err)
		} else if d.Status != models.DispatchClosed {
			t.Errorf("dispatch %s", d.Status)
		}
	})
}

func TestEndToEndRefusals(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		for _, c := range []struct{ from, want string }{
			{"stranger", "您尚未登记，请联系管理员"},
			{"zhangsan", "仅区领导可以调度"},
		} {
			got := w.group(c.from, "调度 @住建局 @环海街道 明天中午前办结")
			if len(got.calls) != 1 || got.calls[0].Content != c.want || got.calls[0].Route != wecomtest.RouteWebhook {
				t.Errorf("%s: %+v, want only %q", c.from, got.calls, c.want)
			}
		}
		if n := w.count(&models.Dispatch{}); n != 0 {
			t.Errorf("%d dispatches created", n)
		}
	})
}

func TestEndToEndReturnChain(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		got := w.private("sunba", "申请退办 2024112700123 该诉求属市级事权")
		contains(t, "head's request", got.to("zhangsan"), "【退办审核】孙八（住建局）申请退办工单 2024112700123")
		got = w.private("wangwu", "批准退办 2024112700123")
		if c := got.to("wangwu"); c != "工单 2024112700123 的退办申请尚待住建局主要负责人审核" || len(got.calls) != 1 {
			t.Errorf("leader before head: %q", c)
		}
		got = w.private("zhangsan", "同意退办 2024112700123 情况属实")
		contains(t, "leaders' request", got.to("wangwu", "zhaosi"), "【退办审批】孙八（住建局）申请退办工单 2024112700123，张三（住建局）已审核同意。")
		if tk, _, err := w.store.TicketByNumber(ctx, "2024112700123"); err != nil {
			t.Fatal(err)
		} else if tk.Status != models.TicketInProgress {
			t.Fatalf("returned with one approval: %s", tk.Status)
		}
		got = w.private("zhaosi", "批准退办 2024112700123")
		contains(t, "approval reply", got.to("zhaosi"), "已批准工单 2024112700123 退办")
		contains(t, "approval notice", got.to("sunba", "zhangsan", "liuyi"), "【退办批准】工单 2024112700123")
		if tk, _, err := w.store.TicketByNumber(ctx, "2024112700123"); err != nil {
			t.Fatal(err)
		} else if tk.Status != models.TicketReturned {
			t.Errorf("ticket after both approvals: %s", tk.Status)
		}
	})
}
