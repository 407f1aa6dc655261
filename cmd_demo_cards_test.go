package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"yanzhen/demo"
	"yanzhen/demo/browsertest"
)

// TestDemoDispatchByTapsInTheBrowser is issue 14's browser test: a leader
// dispatches in the group; the target's head taps 签收 on the card in his
// app messages, and the card changes for him while the leader is told; he
// taps 已办结, the leader gets the card to confirm and taps 确认办结: the
// leader's card changes while the head is told. Every tap goes through the
// page and the fake WeCom's template_card_event to the real bot: on its
// /wecom/app route, or on the AI bot's long connection.
func TestDemoDispatchByTapsInTheBrowser(t *testing.T) {
	t.Run("callbacks", func(t *testing.T) { tapDemo(t, "demo-cards.png", "YANZHEN_SCHEDULE_ENABLED=false") })
	t.Run("aibot-ws", func(t *testing.T) {
		tapDemo(t, "demo-cards-aibot-ws.png", "YANZHEN_SCHEDULE_ENABLED=false", demo.AIBotWSEnv)
	})
}

// tapDemo is TestDemoDispatchByTapsInTheBrowser on a demo started with
// environ; the screenshot is shot.
func tapDemo(t *testing.T, shot string, environ ...string) {
	d := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), environ...)
	b := browsertest.New(t, 1440, 900)
	step, eval := b.Drive(t, 60*time.Second, d.logs.String)
	// card is the last card in the open member's app messages; buttons and
	// text are its buttons' labels and its text.
	const card = `[...document.querySelectorAll('#app-messages .tcard')].pop()`
	buttons := func(want ...string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(strings.Join(want, "|"))
		return chromedp.Poll[chromedp.Void](`(() => { const c = ` + card + `; return !!c && [...c.querySelectorAll('.tc-btn:not(.replaced)')].map(b => b.textContent).join('|') === ` + string(js) + `; })()`)
	}
	shows := func(part string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(part)
		return chromedp.Poll[chromedp.Void](`(() => { const c = ` + card + `; return !!c && c.textContent.includes(` + string(js) + `); })()`)
	}
	open := func(userid string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Click(chromedp.CSS(`.members li[data-userid="`+userid+`"]`)),
			chromedp.Poll[chromedp.Void](`document.querySelector('.members li[data-userid="`+userid+`"]').classList.contains('selected')`),
		)
	}
	tap := func(label string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(label)
		return chromedp.Evaluate[chromedp.Void](`[...` + card + `.querySelectorAll('.tc-btn')].find(b => b.textContent === ` + string(js) + `).click()`)
	}

	step("open the page",
		chromedp.Navigate(d.url+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status-conn').textContent === '已连接' && document.querySelectorAll('#speaker option').length > 30`),
	)
	step("the leader dispatches",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#speaker'); s.value = 'zhoujianguo'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("input"), "调度 @住建局 明天下班前报送海景花园电梯维修整改方案"+kb.Enter),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#messages .msg.bot')].some(m => m.textContent.includes('已下达调度'))`),
	)
	step("the target's head gets the card", open("wangjianhua"), buttons("签收", "已办结"), shows("海景花园电梯维修整改方案"))
	title := eval(card + `.querySelector('.tc-title').textContent`)
	if !strings.HasPrefix(title, "【点对点调度 D") {
		t.Errorf("the card's title is %q", title)
	}
	step("he taps 签收", tap("签收"), buttons("已办结"), shows("已签收 · 王建华"))
	step("the leader is told", open("zhoujianguo"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#app-messages .app-msg')].some(m => m.textContent.includes('住建局（王建华）已签收'))`),
	)
	step("he taps 已办结", open("wangjianhua"), tap("已办结"), buttons(), shows("已报办结"))
	step("the leader gets the card to confirm", open("zhoujianguo"), buttons("确认办结", "退回"))
	step("the leader taps 确认办结", tap("确认办结"), buttons(), shows("已确认办结"))
	step("the target is told", open("wangjianhua"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#app-messages .app-msg')].some(m => m.textContent.includes('已确认办结'))`),
	)
	b.Screenshot(t, filepath.Join("demo", "testdata", "out", shot))
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %q", p)
	}
}
