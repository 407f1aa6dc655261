package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// The AI bot of the long connection.
const (
	wsBotID     = "aibE2E0001"
	wsBotSecret = "e2e-aibot-secret"
	wsGroup     = "wrkgroup"
)

// wsWire is the whole path over the AI bot's long connection, the bot's
// only credentials: frames pushed by the fake WeCom, the bot storing them
// and calling the handler, the worker answering on the connection and
// pushing group and member messages by aibot_send_msg.
type wsWire struct {
	*harness
	wecom     *wecomtest.Server
	bot       *bot.Bot
	seenCalls int
	msg       int
}

func newWSWire(t *testing.T, driver string) *wsWire {
	t.Helper()
	w := &wsWire{harness: newHarness(t, driver)}
	w.wecom = wecomtest.New(wecomtest.WithAIBot(wsBotID, wsBotSecret))
	w.wecom.Now = w.clock.Now
	w.wecom.Start()
	t.Cleanup(w.wecom.Close)
	w.cfg.WeCom = config.WeCom{
		APIBase: w.wecom.URL(), BotName: "雁阵", ReplayWindow: config.Duration(10 * time.Minute),
		AIBot: config.AIBot{Mode: config.AIBotWebSocket, BotID: wsBotID, Secret: wsBotSecret, WSURL: w.wecom.WSURL(), ChatID: wsGroup},
	}
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(w.store, bot.Options{
		WeCom: w.cfg.WeCom, Now: w.clock.Now,
		Outbox: config.Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: config.Duration(time.Hour), PollEvery: config.Duration(10 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.bot, w.files.b = b, b
	// The handler renders through the bot's outbox, which knows the messages travel by the AI bot.
	if w.h, err = handlers.New(w.options(b.Outbox())); err != nil {
		t.Fatal(err)
	}
	b.Start(w.h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("bot shutdown: %v", err)
		}
		_ = b.Close()
	})
	for deadline := time.Now().Add(10 * time.Second); !w.wecom.AIBotConnected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bot did not subscribe")
		}
	}
	return w
}

// group @-mentions the AI bot with text in the work group, as a frame on
// the long connection, and returns what WeCom delivered once the bot has
// handled it.
func (w *wsWire) group(from, text string) delivered {
	w.t.Helper()
	w.msg++
	id := fmt.Sprintf("ws-%d", w.msg)
	if _, err := w.wecom.PushText(wecomtest.AIBotMessage{MsgID: id, ChatID: wsGroup, UserID: from, BotName: "雁阵", Content: text}); err != nil {
		w.t.Fatal(err)
	}
	w.waitHandled(id)
	return w.flush()
}

// waitHandled waits until the bot has handled the frame of msgid.
func (w *wsWire) waitHandled(id string) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var in models.Inbound
		err := w.store.DB(ctx).Where("route = ? AND msg_id = ?", models.RouteAIBot, id).Take(&in).Error
		if err == nil && in.HandledAt != nil {
			return
		}
		if err == nil && in.LastError != "" {
			w.t.Fatalf("handling failed: %s", in.LastError)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("frame %s not handled: %v", id, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// flush sends the outbox and returns the messages WeCom received since the
// last call.
func (w *wsWire) flush() delivered {
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

// chat returns the contents delivered to a chat (the group, or a member's
// single chat) on a route, without the AI bot markdown's hard line breaks.
func (d delivered) chat(route wecomtest.Route, chat string) []string {
	var out []string
	for _, c := range d.calls {
		if c.Route == route && (c.ChatID == chat || strings.Join(c.ToUser, "|") == chat) {
			out = append(out, strings.ReplaceAll(c.Content, "  \n", "\n"))
		}
	}
	return out
}

func TestEndToEndOverTheLongConnectionAsThroughCallbacks(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			cb, ws := newWire(t, driver), newWSWire(t, driver)

			// A head's report: the same confirmation, in the group, and the same report stored.
			const report = "日报 今日受理工单12件，办结10件。"
			want := cb.group("zhangsan", report).robot()
			got := ws.group("zhangsan", report)
			if len(want) != 1 || len(got.calls) != 1 || strings.Join(got.chat(wecomtest.RouteRespond, wsGroup), "") != want[0].Content {
				t.Fatalf("through the callback %+v; over the long connection %q", want, got.chat(wecomtest.RouteRespond, wsGroup))
			}
			if a, b := dailyReports(t, cb.harness), dailyReports(t, ws.harness); a != b || a == "" {
				t.Errorf("stored reports differ:\n%s\n%s", a, b)
			}

			// A leader's dispatch: the same dispatch, the same notices to the
			// heads (in their single chats instead of app messages) and the
			// same announcement in the group.
			const dispatch = "调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众"
			byCallback := cb.group("wangwu", dispatch)
			overWS := ws.group("wangwu", dispatch)
			for _, head := range []string{"zhangsan", "lisi"} {
				var g []string
				for _, c := range overWS.calls {
					if c.Route == wecomtest.RouteSendMsg && (c.ChatID == head || strings.Join(c.ToUser, "|") == head) && c.MsgType == "template_card" {
						g = append(g, cardText(t, templateCard(t, c.Body)))
					}
				}
				if len(g) != 1 || g[0] != byCallback.to(head) {
					t.Errorf("card to %s: %q, through the app %q", head, g, byCallback.to(head))
				}
			}
			announce := byCallback.robot()
			announced := append(overWS.chat(wecomtest.RouteSendMsg, wsGroup), overWS.chat(wecomtest.RouteRespond, wsGroup)...)
			if len(announce) != 2 || len(announced) != 2 {
				t.Fatalf("group messages: through the robot %d, over the long connection %q", len(announce), announced)
			}
			for _, a := range announce {
				if !strings.Contains(strings.Join(announced, "\n---\n"), a.Content) {
					t.Errorf("the group message %q was not said over the long connection:\n%q", a.Content, announced)
				}
			}
			da, err := cb.store.Dispatch(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			db, err := ws.store.Dispatch(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if da.Instruction != db.Instruction || !da.Deadline.Equal(*db.Deadline) || len(da.Targets) != len(db.Targets) || db.Route != models.RouteAIBot || db.ChatID != wsGroup {
				t.Errorf("dispatches differ: %+v\n%+v", da, db)
			}

			// The 18:00 report reaches the group by aibot_send_msg.
			run := jobs.NewRunner(jobs.NewEnv(ws.store, ws.bot.Outbox(), ws.cfg.Domain(), ws.cal, zap.NewNop()))
			ws.clock.Set(at("2026-11-20 18:00"))
			res, err := run.RunAt(ctx, jobs.DailyReport, at("2026-11-20 18:00"))
			if err != nil || !res.Ran {
				t.Fatalf("daily report: %+v %v", res, err)
			}
			posted := ws.flush().chat(wecomtest.RouteSendMsg, wsGroup)
			if len(posted) == 0 || !strings.Contains(posted[0], "日报") || !strings.Contains(strings.Join(posted, "\n"), "今日受理工单12件，办结10件。") {
				t.Errorf("the 18:00 report in the group: %q", posted)
			}
		})
	}
}

// dailyReports describes the reports stored: unit, day, text, revision.
func dailyReports(t *testing.T, x *harness) string {
	t.Helper()
	var rows []models.DailyReport
	if err := x.store.DB(ctx).Order("department_id, day").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%d %s %q r%d by %s\n", r.DepartmentID, r.Day, r.Text, r.Revision, r.SubmittedBy)
	}
	return b.String()
}

func TestEndToEndTapsOverTheLongConnection(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			w := newWSWire(t, driver)
			w.group("wangwu", "调度 @住建局 工单2024112700123 明天中午前办结并回复群众")
			sent := w.wecom.Cards()
			if len(sent) != 1 || sent[0].Route != wecomtest.RouteSendMsg || sent[0].Recipients[0] != "zhangsan" {
				t.Fatalf("cards %+v", sent)
			}
			view, _ := sent[0].View("zhangsan")
			c := readCard(t, view.Card)
			sign := (card{Buttons: c.Buttons}).key(t, "签收")
			if _, err := w.wecom.Tap("zhangsan", sent[0].TaskID, sign); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); w.count(&models.Inbound{}, "msg_type = ? AND handled_at IS NOT NULL", models.MsgTypeTap) == 0; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("tap not handled")
				}
			}
			got := w.flush()
			contains(t, "sign notice", strings.Join(got.chat(wecomtest.RouteSendMsg, "wangwu"), "\n"), "住建局（张三）已签收")
			now, _ := w.wecom.Card(sent[0].TaskID)
			view, _ = now.View("zhangsan")
			c = readCard(t, view.Card)
			if !strings.HasPrefix(c.MainTitle.Desc, "已签收 · 张三") || len(c.Buttons) != 1 || c.Buttons[0].Text != "已办结" {
				t.Errorf("zhangsan's card after the tap: %q %+v", c.MainTitle.Desc, c.Buttons)
			}

			// The same button tapped again (before the card changed on the
			// client) takes no second step: the card is shown as it stands.
			if _, err := w.wecom.PushEvent(wecomtest.AIBotEvent{EventType: "template_card_event", UserID: "zhangsan",
				EventKey: sign, TaskID: sent[0].TaskID, CardType: "button_interaction"}); err != nil {
				t.Fatal(err)
			}
			updates := func() (n int) {
				for _, r := range w.wecom.Requests() {
					if r.Route == wecomtest.RouteUpdate && r.Status == http.StatusOK && r.Errcode == 0 {
						n++
					}
				}
				return n
			}
			for deadline := time.Now().Add(10 * time.Second); updates() < 2; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the repeated tap was not answered: %d updates", updates())
				}
			}
			if got := w.flush(); len(got.calls) != 0 {
				t.Errorf("the repeated tap said %+v", got.calls)
			}
			if n := w.count(&models.DispatchEvent{}, "kind = ?", models.StepSign); n != 1 {
				t.Errorf("%d sign steps after a repeated tap", n)
			}
			now, _ = w.wecom.Card(sent[0].TaskID)
			view, _ = now.View("zhangsan")
			if c = readCard(t, view.Card); !strings.HasPrefix(c.MainTitle.Desc, "已签收 · 张三") {
				t.Errorf("zhangsan's card after the repeated tap: %q", c.MainTitle.Desc)
			}
		})
	}
}
