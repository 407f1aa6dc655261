package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// Credentials of the replicas' corp and robots (test values).
const (
	repCorp     = "wwreplicas"
	repSecret   = "replicas-corp-secret-3c4d"
	repToken    = "ReplicasToken"
	repAESKey   = "ReplicasTestCallbackKeyLocalOnly00000000001"
	repQuKey    = "replicas-robot-qu-01"
	repHhKey    = "replicas-robot-hh-01"
	repHtKey    = "replicas-robot-ht-01"
	repAgentID  = 1000002
	repDayStart = "2026-11-19 08:45" // a Thursday, a working day
)

// replicasOrg is a district group and two street groups, each with its own
// robot, units and times.
const replicasOrg = `departments:
  - {code: zjj, name: 住建局, report_required: true, sort: 10}
  - {code: cgj, name: 城管局, report_required: true, sort: 20}
  - {code: hhjd, name: 环海街道, kind: 镇街, report_required: true, sort: 50}
  - {code: htjd, name: 海亭街道, kind: 镇街, report_required: true, sort: 55}
  - {code: hbsq, name: 海滨社区, kind: 社区, parent: hhjd, report_required: true, sort: 60}
  - {code: lhsq, name: 莲花社区, kind: 社区, parent: hhjd, report_required: true, sort: 61}
  - {code: xhsq, name: 杏花社区, kind: 社区, parent: htjd, report_required: true, sort: 62}
members:
  - {userid: wangwu, name: 王五, role: leader}
  - {userid: zhangsan, name: 张三, department: zjj, role: head}
  - {userid: lisi, name: 李四, department: cgj, role: head}
  - {userid: zhaoliu, name: 赵六, department: hhjd, role: head}
  - {userid: qianqi, name: 钱七, department: htjd, role: head}
  - {userid: sunba, name: 孙八, department: hbsq, role: head}
  - {userid: zhoujiu, name: 周九, department: lhsq, role: head}
  - {userid: wushi, name: 吴十, department: xhsq, role: head}
groups:
  - {code: qu, name: 区联系服务群众工作群, chat_id: wrkQu001, robot: qu, units: [zjj, cgj, hhjd, htjd], report_at: "18:00", remind_at: "17:30"}
  - {code: hh, name: 环海街道工作群, chat_id: wrkHh001, robot: hh, units: [hbsq, lhsq], report_at: "17:30", remind_at: "17:00"}
  - {code: ht, name: 海亭街道工作群, chat_id: wrkHt001, robot: ht, units: [xhsq], report_at: "17:30", remind_at: "17:00"}
`

// repHeads are the heads who report by @robot in their group's chat.
var repHeads = []struct{ user, chat, key string }{
	{"zhangsan", "wrkQu001", repQuKey}, {"lisi", "wrkQu001", repQuKey}, {"zhaoliu", "wrkQu001", repQuKey},
	{"sunba", "wrkHh001", repHhKey}, {"zhoujiu", "wrkHh001", repHhKey}, {"wushi", "wrkHt001", repHtKey},
}

// counting wraps a replica's real handler and counts, across replicas, the
// messages handled to the end, by MsgID.
type counting struct {
	next interface {
		Handle(context.Context, *models.Inbound) error
	}
	mu      *sync.Mutex
	handled map[string]int
}

func (c counting) Handle(ctx context.Context, in *models.Inbound) error {
	if err := c.next.Handle(ctx, in); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handled[in.MsgID]++
	return nil
}

// TestReplicasShareADayWithoutDoubles runs two, then three service replicas
// in-process on one database (SQLite, and MariaDB when
// YANZHEN_TEST_MYSQL_DSN is set), with the app's own wiring, one fake WeCom
// and one injected clock, through a working day: the scheduler's check of
// every replica at each quarter hour from 08:45 to 23:15 (the overdue scans,
// the morning roll-up, the reminders and the groups' reports at 17:30 and
// 18:00, the nightly digest), and the heads' reports by @robot, each to a
// replica at random and some sent again to another one, as WeCom does when
// an answer is late. Then every group has its report once, no alert is
// recorded or sent twice, every callback is handled once, and every outbox
// row reaches WeCom once.
func TestReplicasShareADayWithoutDoubles(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			for _, n := range []int{2, 3} {
				t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) { replicaDay(t, driver, n) })
			}
		})
	}
}

func replicaDay(t *testing.T, driver string, n int) {
	clock := wecomtest.NewClock(storetest.At(repDayStart))
	fake := wecomtest.New(wecomtest.WithCorp(repCorp, repSecret, repAgentID), wecomtest.WithWebhookKeys(repQuKey, repHhKey, repHtKey))
	fake.Now = clock.Now
	fake.Start()
	defer fake.Close()
	dsn := filepath.Join(t.TempDir(), "yz.db")
	if driver == models.DriverMySQL {
		dsn = storetest.MySQLDSN(t)
	}
	text := fmt.Sprintf(`database: {driver: %s, dsn: %q}
wecom:
  api_base: %s
  corp_id: %s
  agent_id: %d
  secret: %s
  robots:
    qu: {webhook_key: %s, token: %s, aes_key: %s}
    hh: {webhook_key: %s}
    ht: {webhook_key: %s}
outbox: {poll_every: 20ms}
schedule: {enabled: false}  # the test runs each replica's checks on its clock
`, driver, dsn, fake.URL(), repCorp, repAgentID, repSecret, repQuKey, repToken, repAESKey, repHhKey, repHtKey)
	dir := t.TempDir()
	cfgPath, orgPath := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "org.yaml")
	must(t, os.WriteFile(cfgPath, []byte(text), 0o600))
	must(t, os.WriteFile(orgPath, []byte(replicasOrg), 0o600))
	if code, stdout, stderr := runCLI(t, nil, "import", "org", orgPath, "-c", cfgPath); code != exitOK {
		t.Fatalf("import org: %d %s %s", code, stdout, stderr)
	}
	cfg, err := config.Parse([]byte(text), nil)
	must(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var served sync.WaitGroup
	defer func() {
		cancel()
		served.Wait()
	}()
	var logs serveLogs
	var mu sync.Mutex
	handled := map[string]int{}
	var mains []*Main
	var scheds []*jobs.Scheduler
	var urls []string
	for range n {
		m, err := Open(ctx, cfg, Options{LogOutput: &logs, Now: clock.Now})
		must(t, err)
		t.Cleanup(func() { _ = m.Close() })
		m.Handlers = counting{next: m.Handlers, mu: &mu, handled: handled}
		s, err := jobs.NewScheduler(m.jobRunner(), clock.Now)
		must(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		served.Add(1)
		go func() {
			defer served.Done()
			if err := m.Serve(ctx, ln); err != nil {
				t.Errorf("serve: %v", err)
			}
		}()
		mains, scheds, urls = append(mains, m), append(scheds, s), append(urls, "http://"+ln.Addr().String())
	}
	store := mains[0].Store
	seedOverdue(t, store)

	signer, err := wecomtest.NewCallbackSigner(repToken, repAESKey, "")
	must(t, err)
	signer.Now = clock.Now
	rng := rand.New(rand.NewPCG(uint64(n), 15))
	post := func(msgID, user, chat, key, content string) {
		cb, err := signer.RobotText(wecomtest.RobotMessage{WebhookURL: fake.WebhookURL(key), MsgID: msgID, ChatID: chat,
			UserID: user, BotName: cfg.WeCom.BotName, Content: content})
		must(t, err)
		// The first try goes to one replica; WeCom sends a third of them
		// again, to another, as if the first answer had been late.
		first := rng.IntN(n)
		targets := []int{first}
		if rng.IntN(3) == 0 {
			targets = append(targets, (first+1+rng.IntN(n-1))%n)
		}
		for _, i := range targets {
			req, err := cb.Request(urls[i] + "/wecom/robot")
			must(t, err)
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("replica %d answered %s with %d", i, msgID, resp.StatusCode)
			}
		}
	}

	var sent []string // MsgIDs
	day := storetest.At(repDayStart)
	for step := 0; !day.Add(time.Duration(step) * 15 * time.Minute).After(storetest.At("2026-11-19 23:15")); step++ {
		now := day.Add(time.Duration(step) * 15 * time.Minute)
		clock.Set(now)
		var wg sync.WaitGroup
		for _, s := range scheds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.Check(ctx, now)
			}()
		}
		// The heads report through the afternoon, some of them twice.
		if now.Hour() >= 14 && now.Hour() < 17 {
			h := repHeads[step%len(repHeads)]
			id := fmt.Sprintf("rep-%d-%d", n, step)
			post(id, h.user, h.chat, h.key, fmt.Sprintf("日报 今日办结%d件，在办%d件", step, step%5))
			sent = append(sent, id)
		}
		wg.Wait()
		quiet(t, store, clock.Now)
	}
	// Let every replica finish: callbacks handled, the outbox sent (the
	// clock moves a minute at a time, so the robots' rate windows pass).
	for deadline := time.Now().Add(60 * time.Second); ; {
		var pending int64
		must(t, store.DB(ctx).Model(&models.OutboxMessage{}).Where("status = ?", models.OutboxPending).Count(&pending).Error)
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the day: %d messages unsent\n%s", pending, logs.String())
		}
		clock.Advance(time.Minute)
		quiet(t, store, clock.Now)
	}

	// Every callback handled once, however many replicas it reached.
	mu.Lock()
	for _, id := range sent {
		if handled[id] != 1 {
			t.Errorf("callback %s handled %d times", id, handled[id])
		}
	}
	if len(handled) != len(sent) {
		t.Errorf("%d callbacks handled, %d sent", len(handled), len(sent))
	}
	mu.Unlock()

	// Every outbox row reached WeCom once, and nothing reached it twice.
	msgs := fake.Messages()
	seen := map[string]int{}
	reports := map[string]int{}
	for _, m := range msgs {
		to := m.Key + "@" + m.ChatID + strings.Join(m.ToUser, "|")
		seen[to+"\x00"+m.Content]++
		if m.Route == wecomtest.RouteWebhook && strings.Contains(m.Content, "接诉即办工作日报") {
			reports[m.ChatID]++
		}
	}
	for k, c := range seen {
		if c > 1 {
			to, content, _ := strings.Cut(k, "\x00")
			t.Errorf("sent %d times to %s: %.200s", c, to, content)
		}
	}
	var rows int64
	must(t, store.DB(ctx).Model(&models.OutboxMessage{}).Where("status = ?", models.OutboxSent).Count(&rows).Error)
	if int(rows) != len(msgs) {
		t.Errorf("%d outbox rows sent, WeCom received %d messages", rows, len(msgs))
	}
	for _, chat := range []string{"wrkQu001", "wrkHh001", "wrkHt001"} {
		if reports[chat] != 1 {
			t.Errorf("chat %s got its daily report %d times", chat, reports[chat])
		}
	}
	// No alert twice: one row per subject and level, each sent by one scan.
	var alerts []models.Alert
	must(t, store.DB(ctx).Find(&alerts).Error)
	if len(alerts) == 0 {
		t.Error("no overdue alert was recorded")
	}
	for _, a := range alerts {
		if a.Count != 1 && a.LastSentAt.Sub(a.FirstSentAt) < 4*time.Hour {
			t.Errorf("alert %s %d %s sent %d times within %v", a.SubjectKind, a.SubjectID, a.Level, a.Count, a.LastSentAt.Sub(a.FirstSentAt))
		}
	}
	// Every slot ran once.
	var runs []models.JobRun
	must(t, store.DB(ctx).Where("status = ?", models.JobDone).Find(&runs).Error)
	done := map[string]int{}
	for _, r := range runs {
		done[r.Job+" "+r.Group+" "+r.Slot]++
	}
	for k, c := range done {
		if c != 1 {
			t.Errorf("slot %s done %d times", k, c)
		}
	}
	// And the replicas shared it.
	owners := map[string]bool{}
	for _, r := range runs {
		owners[r.Owner] = true
	}
	senders := 0
	for _, m := range mains {
		if sentBy(t, m) > 0 {
			senders++
		}
	}
	if len(owners) < 2 || senders < 2 {
		t.Errorf("the jobs ran on %d replicas and the messages went out from %d, of %d", len(owners), senders, n)
	}
	for _, want := range []string{"daily-report qu 2026-11-19T18:00", "daily-report hh 2026-11-19T17:30", "daily-report ht 2026-11-19T17:30"} {
		if done[want] != 1 {
			t.Errorf("slot %s not done", want)
		}
	}
}

// sentBy returns how many messages replica m sent (yanzhen_outbox_sent_total).
func sentBy(t *testing.T, m *Main) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	must(t, err)
	var n float64
	for _, f := range families {
		if f.GetName() == "yanzhen_outbox_sent_total" {
			for _, c := range f.GetMetric() {
				n += c.GetCounter().GetValue()
			}
		}
	}
	return n
}

// quiet waits until no replica has work under way: every callback handled,
// no outbox row claimed for a send, two looks in a row 50 ms apart (longer
// than the workers' poll). The clock of the test jumps a quarter of an hour
// at a time; moving it while a send or a handler is under way would run out
// their leases in an instant, which real time never does while they last
// seconds.
func quiet(t *testing.T, s *models.Store, now func() time.Time) {
	t.Helper()
	for calm, deadline := 0, time.Now().Add(30*time.Second); calm < 2; {
		var unhandled, sending int64
		must(t, s.DB(context.Background()).Model(&models.Inbound{}).Where("handled_at IS NULL").Count(&unhandled).Error)
		must(t, s.DB(context.Background()).Model(&models.OutboxMessage{}).
			Where("status = ? AND claimed_until > ?", models.OutboxPending, now()).Count(&sending).Error)
		if unhandled+sending == 0 {
			calm++
		} else {
			calm = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas still busy at %v: %d callbacks unhandled, %d messages being sent", now(), unhandled, sending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seedOverdue gives each unit open tickets that cross their deadlines
// through the day, so that every scan round has alerts to send.
func seedOverdue(t *testing.T, s *models.Store) {
	t.Helper()
	var units []models.Department
	must(t, s.DB(context.Background()).Order("id").Find(&units).Error)
	for i, u := range units {
		for j, due := range []string{"2026-11-18 16:00", "2026-11-19 10:00", "2026-11-19 15:20", "2026-11-20 11:00"} {
			deadline := storetest.At(due)
			tk := models.Ticket{Number: fmt.Sprintf("20261110%02d%03d", i, j), Title: "路灯不亮", DepartmentID: &u.ID,
				Status: models.TicketInProgress, ReceivedAt: storetest.At("2026-11-10 09:00"), Deadline: &deadline}
			must(t, s.DB(context.Background()).Create(&tk).Error)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
