package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"yanzhen/demo/browsertest"
)

// hostileMarkdown is a bot message that uses every construct of WeCom's
// markdown subset, and some HTML and links that must come out as text.
const hostileMarkdown = "# 今日日报\n" +
	"> 截至 18:00\n" +
	"住建局 <font color=\"info\">已报</font>，卫健委 <font color=\"warning\">未报\n跨行仍为警示色</font>，**加粗** `D12` <@wangjianhua> @环海街道\n" +
	"[详情](https://example.com/a?b=1) [坏链接](javascript:window.__xss=3)\n" +
	"<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script><font color=\"red\">红</font>"

// openPage opens the page at url in b, waits until it is connected, and
// returns run, which does steps in the page (what names them in a failure),
// and eval, which returns the string of a JavaScript expression. Both end
// 30 s after the page opened.
func openPage(t *testing.T, b *browsertest.Browser, url string) (run func(what string, steps ...chromedp.Action[chromedp.Void]), eval func(expr string) string) {
	t.Helper()
	run, eval = b.Drive(t, 30*time.Second, nil)
	run("open the page",
		chromedp.Navigate(url+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status-conn').textContent === '已连接' && document.querySelectorAll('#speaker option').length > 30`),
	)
	return run, eval
}

// TestPageRendersWeComMarkdownSafely drives the page in a browser against a
// stand-in bot: what is typed becomes a callback, the markdown reply and an
// app message come back over the event stream and are rendered as WeCom
// would, and nothing in a message runs as HTML.
func TestPageRendersWeComMarkdownSafely(t *testing.T) {
	r := newRig(t)
	b := browsertest.New(t, 1280, 860)
	r.answer = func(m robotPlain) {
		r.sendJSON(m.WebhookURL, map[string]any{"chatid": m.ChatID, "msgtype": "markdown", "markdown": map[string]string{"content": hostileMarkdown}})
		r.appMessage("text", "请于明天下班前报送整改方案（D12）", "wangjianhua")
	}
	run, eval := openPage(t, b, r.url)
	if got := eval(`[...document.querySelectorAll('#messages .tips li')].map(li => li.textContent).join('|')`); !strings.HasPrefix(got, "以「黄志明（卫健委）」") || strings.Count(got, "|") != 5 {
		t.Errorf("an empty chat shows the first steps: %q", got)
	}
	run("speak as the main leader",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#speaker'); s.value = 'zhoujianguo'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("input"), "查 D12"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".msg.bot .md-h1")),
	)
	if m := <-r.heard; m.From.UserID != "zhoujianguo" || m.Content != "@雁阵 查 D12" {
		t.Errorf("callback %+v", m)
	}
	checks := map[string]string{
		`document.querySelector('.msg.own[data-from="zhoujianguo"] .bubble').textContent`:                  "@雁阵 查 D12",
		`document.querySelector('.msg.own .mention').textContent`:                                          "@雁阵",
		`document.querySelector('.msg.bot .md-h1').textContent`:                                            "今日日报",
		`document.querySelector('.msg.bot .md-quote').textContent`:                                         "截至 18:00",
		`document.querySelector('.msg.bot .font-info').textContent`:                                        "已报",
		`[...document.querySelectorAll('.msg.bot .font-warning')].map(e => e.textContent).join('|')`:       "未报|跨行仍为警示色",
		`document.querySelector('.msg.bot .md-b').textContent`:                                             "加粗",
		`document.querySelector('.msg.bot .md-code').textContent`:                                          "D12",
		`[...document.querySelectorAll('.msg.bot .mention')].map(e => e.textContent).join('|')`:            "@王建华|@环海街道",
		`[...document.querySelectorAll('.msg.bot a')].map(e => e.href).join('|')`:                          "https://example.com/a?b=1",
		`String(document.querySelectorAll('#messages img, #messages script, #messages [onerror]').length)`: "0",
		`String(window.__xss)`: "undefined",
		`getComputedStyle(document.querySelector('.msg.bot .font-warning')).color`: "rgb(240, 100, 42)",
	}
	for expr, want := range checks {
		if got := eval(expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	if text := eval(`document.querySelector('.msg.bot .bubble').textContent`); !strings.Contains(text, `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><font color="red">红</font>`) ||
		!strings.Contains(text, "[坏链接](javascript:window.__xss=3)") {
		t.Errorf("HTML in a message is not shown as text: %q", text)
	}

	run("read the head's app message",
		chromedp.Poll[chromedp.Void](`document.querySelector('.members li[data-userid="wangjianhua"] .badge').textContent === '1'`),
		chromedp.Click(chromedp.CSS(`.members li[data-userid="wangjianhua"]`)),
		chromedp.WaitVisible(chromedp.CSS("#app-messages .app-msg")),
	)
	if got := eval(`document.querySelector('#app-messages .app-msg .content').textContent`); got != "请于明天下班前报送整改方案（D12）" {
		t.Errorf("app message %q", got)
	}
	if got := eval(`document.querySelector('#inbox-who').textContent`); !strings.Contains(got, "王建华") {
		t.Errorf("inbox of %q", got)
	}

	run("run a job as if at 18:00",
		chromedp.SetValue(chromedp.ID("job-at"), "2026-11-20T18:00"),
		chromedp.Click(chromedp.CSS(`#jobs button[data-job="daily-report"]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#messages .notice')].some(e => e.textContent.includes('已按 2026-11-20 18:00 为「高新区联系服务群众工作群」执行「日报汇总」'))`),
	)
	if r.jobs.job != "daily-report" || r.jobs.group != "qu" || r.jobs.at.Format("2006-01-02 15:04") != "2026-11-20 18:00" {
		t.Errorf("ran %q for %q at %v", r.jobs.job, r.jobs.group, r.jobs.at)
	}

	// The street's group: its own chat, its own times, its own messages.
	run("switch to the street's group and speak there",
		chromedp.Click(chromedp.CSS(`#groups button[data-group="hh"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#group-name').textContent.startsWith('环海街道工作群') && document.querySelectorAll('#messages .msg').length === 0`),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#speaker'); s.value = 'zhouhaiyan'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("input"), "未报"+kb.Enter),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#messages .msg.bot').length === 1`),
	)
	if m := <-r.heard; m.ChatID != "wrkSFfCgAAdemo-huanhai-group" || m.From.UserID != "zhouhaiyan" {
		t.Errorf("the street's callback %+v", m)
	}
	if got := eval(`document.querySelector('#jobs button[data-job="daily-report"] span').textContent`); got != "工作日 17:30" {
		t.Errorf("the street's report time %q", got)
	}
	run("back to the district's group",
		chromedp.Click(chromedp.CSS(`#groups button[data-group="qu"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#group-name').textContent.startsWith('高新区联系服务群众工作群')`),
	)
	if got := eval(`[...document.querySelectorAll('#messages .msg')].map(e => e.dataset.from || 'bot').join('|')`); got != "zhoujianguo|bot" {
		t.Errorf("the district's chat shows %q", got)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %q", p)
	}
	b.Screenshot(t, "testdata/out/page.png")
}
