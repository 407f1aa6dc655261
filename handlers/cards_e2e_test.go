package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// lastCard returns the last card with buttons or a status sent to userid,
// as userid sees it now, with its task_id.
func (w *wire) lastCard(userid string) (card, wecomtest.CardView) {
	w.t.Helper()
	cards := w.wecom.Cards()
	for i := len(cards) - 1; i >= 0; i-- {
		if v, ok := cards[i].View(userid); ok && cards[i].ChatID == "" {
			c := readCard(w.t, v.Card)
			c.TaskID = cards[i].TaskID
			return c, v
		}
	}
	w.t.Fatalf("no card to %s", userid)
	return card{}, wecomtest.CardView{}
}

// key returns the key of the button labelled text on c.
func (c card) key(t *testing.T, text string) string {
	t.Helper()
	for _, b := range c.Buttons {
		if b.Text == text {
			return b.Key
		}
	}
	t.Fatalf("card %q has no button %q: %+v", c.MainTitle.Title, text, c.Buttons)
	return ""
}

// labels returns the labels of c's buttons.
func (c card) labels() []string {
	var out []string
	for _, b := range c.Buttons {
		out = append(out, b.Text)
	}
	return out
}

// tapped is what WeCom delivered for a tap, and the card updates it took
// or refused.
type tapped struct {
	delivered
	updates []wecomtest.Request
}

// tap makes userid tap the button labelled text on the last card they got,
// posts the event to the app's callback and returns what WeCom delivered.
func (w *wire) tap(userid, text string) tapped {
	w.t.Helper()
	c, _ := w.lastCard(userid)
	ev, err := w.wecom.Tap(userid, c.TaskID, c.key(w.t, text))
	if err != nil {
		w.t.Fatalf("%s taps %s: %v", userid, text, err)
	}
	return w.postTap(ev)
}

// postTap posts a tap event to the app's callback, waits until the bot has
// handled every callback and returns what WeCom delivered.
func (w *wire) postTap(ev wecomtest.CardEvent) tapped {
	w.t.Helper()
	before := len(w.wecom.Requests())
	cb, err := w.app.AppCardEvent(ev)
	if err != nil {
		w.t.Fatal(err)
	}
	w.post("app", cb)
	deadline := time.Now().Add(10 * time.Second)
	for w.count(&models.Inbound{}, "handled_at IS NULL") > 0 {
		if time.Now().After(deadline) {
			w.t.Fatal("tap not handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := tapped{delivered: w.flushed()}
	for _, r := range w.wecom.Requests()[before:] {
		if r.Route == wecomtest.RouteUpdateCard {
			d.updates = append(d.updates, r)
		}
	}
	return d
}

// split returns the card updates WeCom took, and those it refused.
func (d tapped) split() (ok, refused []wecomtest.Request) {
	for _, c := range d.updates {
		if c.Status == http.StatusOK && c.Errcode == 0 {
			ok = append(ok, c)
		} else {
			refused = append(refused, c)
		}
	}
	return ok, refused
}

// shows fails unless userid's view of their last card shows the status
// (its description, or the text its greyed buttons show) and the buttons.
func (w *wire) shows(userid, status string, buttons ...string) {
	w.t.Helper()
	c, v := w.lastCard(userid)
	got := c.MainTitle.Desc
	if v.ReplaceName != "" {
		got, c.Buttons = v.ReplaceName, nil
	}
	if !strings.HasPrefix(got, status) || !slices.Equal(c.labels(), buttons) {
		w.t.Errorf("%s's card shows %q %v, want %q %v", userid, got, c.labels(), status, buttons)
	}
}

func TestEndToEndDispatchByTaps(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.group("wangwu", "调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众")
		w.shows("zhangsan", "", "签收", "已办结")
		w.shows("lisi", "", "签收", "已办结")

		got := w.tap("zhangsan", "签收")
		if ok, _ := got.split(); len(ok) != 1 || !slices.Equal(ok[0].ToUser, []string{"zhangsan"}) {
			t.Errorf("sign: card updates %+v", ok)
		}
		w.shows("zhangsan", "已签收 · 张三 ", "已办结")
		contains(t, "sign notice", got.to("wangwu"), "住建局（张三）已签收")
		w.tap("lisi", "签收")
		got = w.tap("zhangsan", "已办结")
		w.shows("zhangsan", "已报办结")
		contains(t, "done notice", got.to("wangwu"), "住建局（张三）报办结", "办结进度：1/2")
		// The result text still goes by typing.
		w.private("lisi", "办结 D1 已配合完成")
		w.shows("wangwu", "", "确认办结", "退回")

		// 退回 by the button sends both back to work, with 请补充说明.
		w.tap("wangwu", "退回")
		w.shows("wangwu", "已退回")
		w.shows("zhangsan", "已退回，请补充说明", "已办结")
		w.shows("lisi", "已退回，请补充说明", "已办结")
		events, err := w.store.DispatchEvents(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if e := events[len(events)-1]; e.Step != models.StepReturn || e.Actor != "wangwu" || e.Text != "请补充说明" {
			t.Errorf("return recorded as %+v", e)
		}
		w.tap("zhangsan", "已办结")
		w.tap("lisi", "已办结")
		got = w.tap("wangwu", "确认办结")
		w.shows("wangwu", "已确认办结")
		contains(t, "confirm notice", got.to("zhangsan", "lisi"), "王五（区领导）已确认办结、销号。")
		if d, err := w.store.Dispatch(ctx, 1); err != nil {
			t.Fatal(err)
		} else if d.Status != models.DispatchClosed {
			t.Errorf("dispatch %s", d.Status)
		}
	})
}

func TestEndToEndReturnChainByTaps(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		w.private("sunba", "申请退办 2024112700123 该诉求属市级事权")
		w.shows("zhangsan", "", "同意", "驳回")
		w.tap("zhangsan", "同意")
		w.shows("zhangsan", "已同意 · 张三 ")
		w.shows("wangwu", "", "批准", "驳回")
		got := w.tap("wangwu", "批准")
		w.shows("wangwu", "已批准 · 王五 ")
		contains(t, "approval notice", got.to("sunba", "zhangsan", "liuyi"), "【退办批准】")
		tk, _, err := w.store.TicketByNumber(ctx, "2024112700123")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != models.TicketReturned {
			t.Errorf("ticket %s after the taps", tk.Status)
		}
	})
}

func TestEndToEndTapsThatTakeNoStep(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.group("wangwu", "调度 @住建局 @环海街道 明天中午前办结并回复群众")
		c, _ := w.lastCard("zhangsan")
		key := c.key(t, "签收")

		// A double tap: both taps leave the client before the card changes.
		first, err := w.wecom.Tap("zhangsan", c.TaskID, key)
		if err != nil {
			t.Fatal(err)
		}
		second, err := w.wecom.Tap("zhangsan", c.TaskID, key)
		if err != nil {
			t.Fatal(err)
		}
		got := w.postTap(first)
		contains(t, "sign notice", got.to("wangwu"), "住建局（张三）已签收")
		got = w.postTap(second)
		if ok, refused := got.split(); len(ok) != 1 || len(refused) != 0 || len(got.calls) != 0 {
			t.Errorf("second tap: %+v", got.calls)
		}
		w.shows("zhangsan", "已签收 · 张三 ", "已办结")
		// WeCom sending the first tap again spends no code and says nothing.
		if got = w.postTap(first); len(got.updates) != 0 || len(got.calls) != 0 {
			t.Errorf("the first tap sent again: %+v %+v", got.updates, got.calls)
		}
		if n := w.count(&models.DispatchEvent{}, "kind = ?", models.StepSign); n != 1 {
			t.Errorf("%d sign steps after a double tap", n)
		}

		// A tap by someone the card is not for: lisi answers for 环海街道, not
		// for 住建局's card. One line, no step, no card changed.
		forged := first
		forged.UserID, forged.ResponseCode = "lisi", "not-a-code"
		got = w.postTap(forged)
		if len(got.calls) != 1 || !strings.Contains(got.to("lisi"), "不是调度 D1 该项的办理对象") {
			t.Errorf("wrong person's tap: %+v", got.calls)
		}
		if d, err := w.store.Dispatch(ctx, 1); err != nil {
			t.Fatal(err)
		} else if d.Targets[1].Status != models.TargetPending {
			t.Errorf("环海街道 %s after 李四 tapped 住建局's card", d.Targets[1].Status)
		}

		// A forged key takes no step and says nothing.
		lc, _ := w.lastCard("lisi")
		fake, err := w.wecom.Tap("lisi", lc.TaskID, lc.key(t, "签收"))
		if err != nil {
			t.Fatal(err)
		}
		fake.EventKey = strings.Replace(fake.EventKey, "/sign~", "/done~", 1)
		if got = w.postTap(fake); len(got.calls) != 0 {
			t.Errorf("forged key: %+v", got.calls)
		}

		// A tap after the code expired: the step is taken, and the tapper is
		// told by a message instead.
		late, err := w.wecom.Tap("lisi", lc.TaskID, lc.key(t, "签收"))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(wecomtest.ResponseCodeTTL + time.Hour)
		got = w.postTap(late)
		if _, refused := got.split(); len(refused) != 1 {
			t.Errorf("expired code: updates %+v", got.calls)
		}
		contains(t, "expired code's notice", got.to("lisi"), "已签收 · 李四")
		if n := w.count(&models.OutboxMessage{}, "status = ?", models.OutboxPending); n != 0 {
			t.Errorf("%d messages stuck behind an expired code", n)
		}

		// A tap after the dispatch was withdrawn shows 已撤销.
		w.private("wangwu", "撤销 D1")
		w.tap("zhangsan", "已办结")
		w.shows("zhangsan", "已撤销")
		if n := w.count(&models.DispatchEvent{}, "kind = ?", models.StepDone); n != 0 {
			t.Errorf("%d done steps on a withdrawn dispatch", n)
		}
	})
}
