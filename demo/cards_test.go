package demo

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yanzhen/demo/browsertest"
)

// dispatchCard is a dispatch notice card as the product sends it, with its
// buttons; signed is the card after 签收.
func dispatchCard(taskID string, signed bool) map[string]any {
	card := map[string]any{
		"card_type": "button_interaction", "task_id": taskID,
		"source":           map[string]any{"desc": "雁阵 · 点对点调度"},
		"main_title":       map[string]any{"title": "【点对点调度 D12】", "desc": "周建国 下发"},
		"emphasis_content": map[string]any{"title": "11-21 18:00", "desc": "办理期限"},
		"sub_title_text":   "请于明天下班前报送整改方案",
		"horizontal_content_list": []any{
			map[string]any{"keyname": "下发人", "type": 3, "userid": "zhoujianguo"},
			map[string]any{"keyname": "工单", "value": "GX20261120001"},
		},
		"button_list": []any{
			map[string]any{"text": "签收", "style": 1, "key": "dispatch:12:sign"},
			map[string]any{"text": "已办结", "style": 2, "key": "dispatch:12:done"},
		},
	}
	if signed {
		card["horizontal_content_list"] = append(card["horizontal_content_list"].([]any), map[string]any{"keyname": "状态", "value": "已签收 · 王建华 12:03"})
		card["button_list"] = []any{map[string]any{"text": "已办结", "style": 1, "key": "dispatch:12:done"}}
	}
	return card
}

// sendCard sends card to userids as an app message and returns the errcode.
func (r *rig) sendCard(t *testing.T, card map[string]any, userids ...string) int {
	t.Helper()
	return r.call(t, r.appURL("message/send"), map[string]any{
		"touser": strings.Join(userids, "|"), "agentid": r.cfg.WeCom.AgentID, "msgtype": "template_card", "template_card": card,
	})
}

// call posts v to a URL of the fake WeCom and returns the errcode.
func (r *rig) call(t *testing.T, url string, v any) int {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errcode int `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Errcode
}

// signOnTap makes the stand-in bot answer a tap on 签收 as the product does:
// it updates the card for all its recipients with the event's ResponseCode.
func (r *rig) signOnTap(t *testing.T) <-chan cardTap {
	taps := make(chan cardTap, 4)
	r.tapped = func(m cardTap) {
		if m.EventKey == "dispatch:12:sign" {
			r.sendJSON(r.appURL("message/update_template_card"), map[string]any{
				"atall": 1, "agentid": r.cfg.WeCom.AgentID, "response_code": m.ResponseCode, "template_card": dispatchCard(m.TaskID, true),
			})
		}
		taps <- m
	}
	return taps
}

func TestTapReachesTheAppAndTheUpdateIsStreamed(t *testing.T) {
	r := newRig(t)
	taps := r.signOnTap(t)
	if code := r.sendCard(t, dispatchCard("D12_1", false), "wangjianhua", "zhoujianguo"); code != 0 {
		t.Fatalf("send the card: errcode %d", code)
	}
	_, evs, ids := r.events(t, "", 1)
	if e := evs[0]; e.Kind != EventApp || e.TaskID != "D12_1" || e.MsgType != "template_card" || !strings.Contains(string(e.Card), `"dispatch:12:sign"`) ||
		strings.Join(e.To, "|") != "wangjianhua|zhoujianguo" {
		t.Fatalf("card event %+v", e)
	}

	for _, bad := range []struct{ body, want string }{
		{`{"userid":"wangjianhua","task_id":"D99","key":"dispatch:12:sign"}`, "没有这张卡片"},
		{`{"userid":"huangzhiming","task_id":"D12_1","key":"dispatch:12:sign"}`, "该成员没有收到这张卡片"},
		{`{"userid":"wangjianhua","task_id":"D12_1","key":"dispatch:12:forged"}`, "该按钮已不可点击"},
	} {
		if code, out := r.post(t, "/demo/tap", "application/json", bad.body); code != http.StatusBadRequest || out["error"] != bad.want {
			t.Errorf("tap %s: %d %v", bad.body, code, out)
		}
	}
	if code, out := r.post(t, "/demo/tap", "application/json", `{"userid":"wangjianhua","task_id":"D12_1","key":"dispatch:12:sign"}`); code != http.StatusOK {
		t.Fatalf("tap: %d %v", code, out)
	}
	select {
	case m := <-taps:
		if m.MsgType != "event" || m.Event != "template_card_event" || m.FromUserName != "wangjianhua" || m.ToUserName != r.cfg.WeCom.CorpID ||
			m.TaskID != "D12_1" || m.EventKey != "dispatch:12:sign" || m.CardType != "button_interaction" || m.ResponseCode == "" || m.AgentID != int(r.cfg.WeCom.AgentID) {
			t.Errorf("the app heard %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no tap reached the app")
	}
	_, evs, _ = r.events(t, ids[0], 1)
	e := evs[0]
	if e.Kind != EventCard || e.TaskID != "D12_1" || len(e.Views) != 2 {
		t.Fatalf("update event %+v", e)
	}
	for _, u := range []string{"wangjianhua", "zhoujianguo"} {
		if v := e.Views[u]; !strings.Contains(string(v.Card), "已签收 · 王建华 12:03") || strings.Contains(string(v.Card), "dispatch:12:sign") {
			t.Errorf("%s sees %s", u, v.Card)
		}
	}
}

// TestPageShowsCardsAndTheirUpdates drives the page against a stand-in bot:
// a dispatch card in the target's and the leader's app messages, a notice
// card in the group, a tap on 签收 in the target's panel reaching the app
// as a template_card_event, and the updated card in both members' views.
func TestPageShowsCardsAndTheirUpdates(t *testing.T) {
	r := newRig(t)
	b := browsertest.New(t, 1280, 860)
	taps := r.signOnTap(t)
	run, eval := openPage(t, b, r.url)
	if code := r.sendCard(t, dispatchCard("D12_1", false), "wangjianhua", "zhoujianguo"); code != 0 {
		t.Fatalf("send the card: errcode %d", code)
	}
	r.sendJSON(r.srv.fake.WebhookURL(r.cfg.WeCom.Robot.WebhookKey.Reveal()), map[string]any{"chatid": ChatID, "msgtype": "template_card", "template_card": map[string]any{
		"card_type": "text_notice", "main_title": map[string]any{"title": "调度 D12 已下发"}, "sub_title_text": "<b>住建局</b> 请签收",
		"card_action": map[string]any{"type": 1, "url": "javascript:window.__xss=1"},
	}})
	const target = `#app-messages .tcard[data-task="D12_1"][data-viewer="wangjianhua"]`
	run("open the target's app messages",
		chromedp.Poll[chromedp.Void](`document.querySelector('.members li[data-userid="wangjianhua"] .badge').textContent === '1'`),
		chromedp.Click(chromedp.CSS(`.members li[data-userid="wangjianhua"]`)),
		chromedp.WaitVisible(chromedp.CSS(target)),
	)
	checks := map[string]string{
		`document.querySelector('` + target + ` .tc-title').textContent`:                                                     "【点对点调度 D12】",
		`document.querySelector('` + target + ` .tc-em-title').textContent`:                                                  "11-21 18:00",
		`[...document.querySelectorAll('` + target + ` .tc-row')].map(e => e.textContent).join('|')`:                         "下发人周建国|工单GX20261120001",
		`[...document.querySelectorAll('` + target + ` .tc-btn')].map(e => e.textContent).join('|')`:                         "签收|已办结",
		`document.querySelector('#messages .tcard[data-type="text_notice"] .tc-sub').textContent`:                            "<b>住建局</b> 请签收",
		`String(document.querySelectorAll('#messages .tcard .tc-more, #messages .tcard b, #messages .tcard button').length)`: "0",
	}
	for expr, want := range checks {
		if got := eval(expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	run("tap 签收", chromedp.Click(chromedp.CSS(target+` .tc-btn[data-key="dispatch:12:sign"]`)))
	select {
	case m := <-taps:
		if m.FromUserName != "wangjianhua" || m.EventKey != "dispatch:12:sign" || m.TaskID != "D12_1" {
			t.Errorf("the app heard %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tap did not reach the app")
	}
	run("see the card change for the target",
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('`+target+` .tc-btn')].map(e => e.textContent).join('|') === '已办结'`),
	)
	if got := eval(`[...document.querySelectorAll('` + target + ` .tc-row')].pop().textContent`); got != "状态已签收 · 王建华 12:03" {
		t.Errorf("the target's card shows %q", got)
	}
	run("see the card change for the leader",
		chromedp.Click(chromedp.CSS(`.members li[data-userid="zhoujianguo"]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#app-messages .tcard[data-viewer="zhoujianguo"] .tc-btn')].map(e => e.textContent).join('|') === '已办结'`),
	)
	if got := eval(`String(window.__xss)`); got != "undefined" {
		t.Errorf("window.__xss = %s", got)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %q", p)
	}
	b.Screenshot(t, "testdata/out/cards.png")
}
