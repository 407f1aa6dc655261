package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"yanzhen/calendar"
	"yanzhen/demo"
	"yanzhen/demo/browsertest"
	"yanzhen/models"
)

// demoRun is `yanzhen demo` running in the test's process.
type demoRun struct {
	url        string
	out, logs  *serveLogs
	stop       func() int
	stopped    bool
	exitStatus int
}

var demoAddress = regexp.MustCompile(`雁阵演示已启动：(http://\S+)/`)

// startDemo runs `yanzhen demo --addr 127.0.0.1:0 --db db` with environ and
// waits for it to print its address. The test's end stops it.
func startDemo(t *testing.T, db string, environ ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{out: &serveLogs{}, logs: &serveLogs{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--db", db}, &cli{stdout: d.out, stderr: d.logs, environ: environ})
	}()
	d.stop = func() int {
		if !d.stopped {
			cancel()
			select {
			case d.exitStatus = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("demo did not stop\n%s", d.logs)
			}
			d.stopped = true
		}
		return d.exitStatus
	}
	t.Cleanup(func() {
		if code := d.stop(); code != exitOK {
			t.Errorf("demo exited %d\n%s", code, d.logs)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("demo exited %d before serving\n%s\n%s", code, d.out, d.logs)
		default:
		}
		if m := demoAddress.FindStringSubmatch(d.out.String()); m != nil {
			d.url = m[1]
			return d
		}
	}
	t.Fatalf("demo printed no address\n%s\n%s", d.out, d.logs)
	return nil
}

// stream collects the page's event stream in the background.
type stream struct {
	mu     sync.Mutex
	events []demo.Event
	more   chan struct{}
}

func (d *demoRun) stream(t *testing.T) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.url+"/demo/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{more: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "":
				var e demo.Event
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) == nil {
					s.mu.Lock()
					s.events = append(s.events, e)
					s.mu.Unlock()
					select {
					case s.more <- struct{}{}:
					default:
					}
				}
			case line == "":
				event = ""
			}
		}
	}()
	return s
}

// await returns the first event that matches, waiting up to 30 s.
func (s *stream) await(t *testing.T, what string, match func(demo.Event) bool) demo.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		for _, e := range s.events {
			if match(e) {
				s.mu.Unlock()
				return e
			}
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-timeout:
			t.Fatalf("no event: %s; saw %+v", what, s.events)
		}
	}
}

func (d *demoRun) post(t *testing.T, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(d.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST %s %s: %s %v", path, b, resp.Status, e)
	}
}

// appSays matches an app message to userid that contains every part.
func appSays(userid string, parts ...string) func(demo.Event) bool {
	return func(e demo.Event) bool {
		if e.Kind != demo.EventApp || !slices.Contains(e.To, userid) {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(e.Content, p) {
				return false
			}
		}
		return true
	}
}

// inChat matches a group message of the chat chat that contains every part.
func inChat(chat string, parts ...string) func(demo.Event) bool {
	says := groupSays(parts...)
	return func(e demo.Event) bool { return e.Chat == chat && says(e) }
}

func groupSays(parts ...string) func(demo.Event) bool {
	return func(e demo.Event) bool {
		if e.Kind != demo.EventGroup {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(e.Content, p) {
				return false
			}
		}
		return true
	}
}

// TestDemoAnswersThroughTheRealBot drives the demo's HTTP surface as the page
// does: what is said goes through the signed robot callback to the real bot,
// and its replies come back on the event stream. A second run on the same
// database duplicates nothing.
func TestDemoAnswersThroughTheRealBot(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	d := startDemo(t, db, "YANZHEN_SCHEDULE_ENABLED=false")
	events := d.stream(t)

	d.post(t, "/demo/say", map[string]string{"userid": demo.StrangerID, "text": "你好"})
	events.await(t, "the stranger's refusal", groupSays("您尚未登记，请联系管理员"))

	d.post(t, "/demo/say", map[string]string{"userid": "huangzhiming", "text": "日报 今日受理工单6件，办结5件，1件正在协调。"})
	events.await(t, "the head's confirmation", groupSays("卫健委", "日报"))
	d.post(t, "/demo/run", map[string]string{"job": "daily-report"})
	events.await(t, "卫健委's section of the daily report", groupSays("卫健委", "今日受理工单6件，办结5件，1件正在协调。"))

	resp, err := http.Get(d.url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	if code := d.stop(); code != exitOK {
		t.Fatalf("demo exited %d\n%s", code, d.logs)
	}
	first := counts(t, db)
	// Dispatches: the leaders' two and the seed's 责令检视.
	if first.tickets != 302 || first.dispatches != 3 || first.members != 35 {
		t.Errorf("first run left %+v", first)
	}

	again := startDemo(t, db, "YANZHEN_SCHEDULE_ENABLED=false")
	for _, line := range []string{"组织架构  新增 0, 更新 0, 跳过 52", "工单      新增 0, 更新 0, 未变 300, 错误 0", "今日日报  新增 0", "调度      新增 0"} {
		if !strings.Contains(again.out.String(), line) {
			t.Errorf("second run does not say %q:\n%s", line, again.out)
		}
	}
	if code := again.stop(); code != exitOK {
		t.Fatalf("second run exited %d\n%s", code, again.logs)
	}
	if second := counts(t, db); second != first {
		t.Errorf("second run changed the data: %+v, then %+v", first, second)
	}
	cfg, err := demo.Config("127.0.0.1:1", db, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := d.logs.String() + again.logs.String()
	for _, secret := range []string{cfg.WeCom.Secret.Reveal(), cfg.WeCom.Robot.WebhookKey.Reveal(), cfg.WeCom.Robot.Token.Reveal(), cfg.WeCom.Robot.AESKey.Reveal()} {
		if strings.Contains(logs, secret) {
			t.Errorf("a demo credential is in the logs:\n%s", logs)
		}
	}
}

type rowCounts struct{ members, tickets, dispatches, reports int64 }

func counts(t *testing.T, db string) rowCounts {
	t.Helper()
	s, err := models.Open(context.Background(), models.Options{Driver: models.DriverSQLite, DSN: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c rowCounts
	for _, q := range []struct {
		model any
		n     *int64
	}{{&models.Member{}, &c.members}, {&models.Ticket{}, &c.tickets}, {&models.Dispatch{}, &c.dispatches}, {&models.DailyReport{}, &c.reports}} {
		if err := s.DB(context.Background()).Model(q.model).Count(q.n).Error; err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestDemoInTheBrowser is the demo as a visitor sees it: a head reports and
// finds the department's section in the daily report, a leader dispatches and
// the head finds the app message, a stranger is refused. It saves a
// screenshot in demo/testdata/out.
func TestDemoInTheBrowser(t *testing.T) {
	t.Run("callbacks", func(t *testing.T) { browseDemo(t, "demo.png", "加密回调", "YANZHEN_SCHEDULE_ENABLED=false") })
	// The same page on the AI bot's long connection alone.
	t.Run("aibot-ws", func(t *testing.T) {
		browseDemo(t, "demo-aibot-ws.png", "智能机器人长连接", "YANZHEN_SCHEDULE_ENABLED=false", demo.AIBotWSEnv)
	})
}

// browseDemo is TestDemoInTheBrowser on a demo started with environ, whose
// page says its messages travel by transport; the screenshot is shot.
func browseDemo(t *testing.T, shot, transport string, environ ...string) {
	d := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), environ...)
	b := browsertest.New(t, 1440, 900)
	ctx, cancel := context.WithTimeout(b.Ctx, 45*time.Second)
	defer cancel()
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, d.logs)
		}
	}
	speak := func(userid, text string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#speaker'); s.value = '`+userid+`'; s.dispatchEvent(new Event('change')); })()`),
			chromedp.SendKeys(chromedp.ID("input"), text+kb.Enter),
		)
	}
	botSays := func(parts ...string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(parts)
		return chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#messages .msg.bot .bubble')].some(b => ` + string(js) + `.every(p => b.textContent.includes(p)))`)
	}

	step("open the page",
		chromedp.Navigate(d.url+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#chat-sub").textContent.includes("`+transport+`")`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status-conn').textContent === '已连接' && document.querySelectorAll('#speaker option').length > 30`),
	)
	// The district's past (the leaders' dispatches, the alerts) is history:
	// the chat starts empty, with the first steps to try.
	start, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelectorAll('#messages .msg').length + ' messages, ' + document.querySelectorAll('#messages .tips li').length + ' tips'`))
	if err != nil {
		t.Fatal(err)
	}
	if start != "0 messages, 6 tips" {
		t.Errorf("the chat starts with %s, want 0 messages and 6 tips", start)
	}
	step("a head reports", speak("huangzhiming", "日报 今日受理工单6件，办结5件，1件正在协调。"), botSays("卫健委", "日报"))
	step("run the daily report now",
		chromedp.Click(chromedp.CSS(`#jobs button[data-job="daily-report"]`)),
		botSays("卫健委", "今日受理工单6件，办结5件，1件正在协调。"),
	)
	step("a leader dispatches", speak("zhoujianguo", "调度 @住建局 明天下班前报送海景花园电梯维修整改方案"), botSays("住建局", "海景花园电梯维修整改方案"))
	step("the head reads the app message",
		chromedp.Poll[chromedp.Void](`Number(document.querySelector('.members li[data-userid="wangjianhua"] .badge').textContent) > 0`),
		chromedp.Click(chromedp.CSS(`.members li[data-userid="wangjianhua"]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#app-messages .app-msg')].some(m => m.textContent.includes('海景花园电梯维修整改方案'))`),
	)
	step("a stranger is refused", speak(demo.StrangerID, "你好"), botSays("您尚未登记，请联系管理员"))
	// The street's group: a community reports there, and the street's report carries it.
	step("switch to the street's group",
		chromedp.Click(chromedp.CSS(`#groups button[data-group="hh"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#group-name').textContent.startsWith('环海街道工作群')`),
	)
	step("a community reports", speak("zhouhaiyan", "日报 今日走访居民12户，化解邻里纠纷2起。"), botSays("海景社区", "日报"))
	step("run the street's report",
		chromedp.Click(chromedp.CSS(`#jobs button[data-job="daily-report"]`)),
		botSays("环海街道接诉即办工作日报", "今日走访居民12户，化解邻里纠纷2起。"),
	)
	step("back to the district's group",
		chromedp.Click(chromedp.CSS(`#groups button[data-group="qu"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#group-name').textContent.startsWith('高新区联系服务群众工作群')`),
	)
	// The picture shows the daily report from its title, next to the head's app message.
	step("scroll to the daily report", chromedp.Evaluate[chromedp.Void](`(() => {
		const report = [...document.querySelectorAll('#messages .msg.bot')].find(m => m.querySelector('.md-h1'));
		document.querySelector('#messages').scrollTop = report.offsetTop - 160;
		document.querySelector('#toast').hidden = true;
	})()`))
	b.Screenshot(t, filepath.Join("demo", "testdata", "out", shot))
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %q", p)
	}
}

// The chats of the demo's two groups.
const (
	districtChat = demo.ChatID
	streetChat   = "wrkSFfCgAAdemo-huanhai-group"
)

// TestDemoShowsTheLevels is issue 15's "Done when" on the demo: a
// community's head reports in the street's group, and the report is in the
// street's 17:30 report; the street's line, with its communities, is in the
// district's 18:00 report; the next working day, the community's ticket
// left open past the community's limit is raised to the street with notices
// to both heads and to the street's group, and the 双派单 ticket overdue is
// told to the department's head and to the street's.
func TestDemoShowsTheLevels(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	d := startDemo(t, db, "YANZHEN_SCHEDULE_ENABLED=false")
	events := d.stream(t)
	cfg, err := demo.Config("127.0.0.1:1", db, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(cfg.Location())
	today := now.Format("2006-01-02")
	next := calendar.New(cfg.Location(), nil).NextWorkday(now).Format("2006-01-02")

	d.post(t, "/demo/say", map[string]string{"userid": "zhouhaiyan", "group": "hh", "text": "日报 今日走访居民12户，化解邻里纠纷2起。"})
	events.await(t, "the community head's confirmation in the street's group", inChat(streetChat, "已收到海景社区", "日报"))
	d.post(t, "/demo/run", map[string]string{"job": "daily-report", "group": "hh", "at": today + "T17:30"})
	events.await(t, "the street's 17:30 report with the community's", inChat(streetChat, "环海街道接诉即办工作日报", "海景社区", "今日走访居民12户，化解邻里纠纷2起。"))
	d.post(t, "/demo/run", map[string]string{"job": "daily-report", "group": "qu", "at": today + "T18:00"})
	events.await(t, "the street's line in the district's 18:00 report", inChat(districtChat, "高新区接诉即办工作日报", "环海街道", "含2个社区，社区日报2/2"))

	d.post(t, "/demo/run", map[string]string{"job": "raise", "at": next + "T10:00"})
	for _, who := range []string{"zhouhaiyan", "linjianjun"} {
		events.await(t, "the raise told to "+who, appSays(who, "【提级】", "90002", "海景社区3号楼楼道堆物"))
	}
	events.await(t, "the raise told in the street's group", inChat(streetChat, "【提级】", "海景社区→环海街道"))
	d.post(t, "/demo/run", map[string]string{"job": "overdue-scan", "at": next + "T10:00"})
	for _, who := range []string{"wangjianhua", "linjianjun"} {
		events.await(t, "the 双派单 ticket told to "+who, appSays(who, "【超期督办】", "90001"))
	}
}
