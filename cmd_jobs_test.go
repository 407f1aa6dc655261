package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/msg"
)

func TestRunAndReportCommands(t *testing.T) {
	fake := wecomtest.New(wecomtest.WithUsers("zhangsan", "lisi", "wangwu"))
	base := fake.Start()
	defer fake.Close()
	cfg := writeConfig(t, fmt.Sprintf("wecom: {api_base: %q, corp_id: %s, agent_id: %d, secret: %s, robot: {webhook_key: %s, chat_id: wrkGroup}}\n",
		base, wecomtest.DefaultCorpID, wecomtest.DefaultAgentID, wecomtest.DefaultSecret, wecomtest.DefaultWebhookKey))
	runCLI(t, nil, "import", "org", "orgimport/testdata/org.yaml", "-c", cfg)

	code, stdout, stderr := runCLI(t, nil, "report", "daily", "--date", "2026-11-20", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "# 高新区接诉即办工作日报\n**2026年11月20日 星期五**") ||
		!strings.Contains(stdout, "住建局<@zhangsan>") {
		t.Fatalf("report daily: %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("report daily sent %d messages", n)
	}

	// A Saturday: `run` runs all the same, and flushes before it returns.
	code, stdout, stderr = runCLI(t, nil, "run", "remind", "--at", "2026-11-21 17:30", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "remind（2026-11-21 17:30）：提醒2个未报单位") {
		t.Fatalf("run remind: %d %q %s", code, stdout, stderr)
	}
	var group []string
	for _, m := range fake.Messages() {
		if m.Route == wecomtest.RouteWebhook {
			group = append(group, m.Mentions...)
		}
	}
	// 住建局's head and the reporter who covers it; 环海街道's reporter.
	if strings.Join(group, ",") != "zhangsan,lisi,lisi" {
		t.Errorf("the reminder in the group mentions %v", group)
	}

	for _, args := range [][]string{
		{"run", "nope", "-c", cfg},
		{"run", "remind", "--at", "tomorrow", "-c", cfg},
		{"report", "weekly", "-c", cfg},
		{"report", "daily", "--date", "20261120", "-c", cfg},
	} {
		if code, _, stderr := runCLI(t, nil, args...); code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: code %d, stderr %q", args, code, stderr)
		}
	}
}

// A run behind a backlog sends what the rate limit lets go now and leaves the
// rest to the service, instead of waiting minute after minute.
func TestRunLeavesALongBacklogToTheService(t *testing.T) {
	fake := wecomtest.New(wecomtest.WithUsers("zhangsan", "lisi", "wangwu"))
	base := fake.Start()
	defer fake.Close()
	cfg := writeConfig(t, fmt.Sprintf("wecom: {api_base: %q, corp_id: %s, agent_id: %d, secret: %s, robot: {webhook_key: %s, chat_id: wrkGroup}}\n",
		base, wecomtest.DefaultCorpID, wecomtest.DefaultAgentID, wecomtest.DefaultSecret, wecomtest.DefaultWebhookKey))
	if code, _, stderr := runCLI(t, nil, "import", "org", "orgimport/testdata/org.yaml", "-c", cfg); code == exitUsage {
		t.Fatalf("import org: %s", stderr)
	}
	// 45 messages already wait for the group robot: over two minutes' worth.
	conf, err := config.Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(context.Background(), conf, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var backlog []msg.Message
	for i := range 45 {
		backlog = append(backlog, msg.Plain(msg.ToGroup(""), fmt.Sprintf("积压消息%d", i)))
	}
	if _, err := m.Bot.Outbox().Enqueue(context.Background(), m.Store, backlog...); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, nil, "run", "remind", "--at", "2026-11-20 17:30", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "remind（2026-11-20 17:30）：提醒2个未报单位") {
		t.Fatalf("run remind: %d %q %s", code, stdout, stderr)
	}
	var robot, app int
	for _, m := range fake.Messages() {
		switch m.Route {
		case wecomtest.RouteWebhook:
			robot++
		case wecomtest.RouteMessage:
			app++
		}
	}
	if robot != wecomtest.WebhookPerMinute || app == 0 {
		t.Errorf("sent %d to the robot and %d app messages; want the robot's %d a minute and the app messages", robot, app, wecomtest.WebhookPerMinute)
	}
	// 45 + the reminder in the group, less the 20 sent.
	if !strings.Contains(stdout, "发送队列中还有26条消息待发送，将由服务（yanzhen serve）继续发送") {
		t.Errorf("no line about the messages left to the service: %q", stdout)
	}
}

// `report daily --date` of a past day shows that day's receipts, reports and
// ranking (the month up to that day), and says which figures are current.
func TestReportOfAPastDay(t *testing.T) {
	eachDatabase(t, func(t *testing.T, cfg string, environ []string) {
		now := func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, config.Default().Location()) }
		runAt := func(args ...string) (int, string, string) {
			var out, errb bytes.Buffer
			code := run(context.Background(), args, &cli{stdout: &out, stderr: &errb, environ: environ, now: now})
			return code, out.String(), errb.String()
		}
		if code, _, stderr := runAt("import", "org", "orgimport/testdata/org.yaml", "-c", cfg); code == exitUsage {
			t.Fatalf("import org: %s", stderr)
		}
		rows := "工单编号,受理时间,承办单位,办理时限,工单状态,办结时间,是否联系,是否解决,是否满意,回访时间,是否有效回访\n" +
			// Received on the 20th, open that evening, resolved since.
			"P1,2026-11-20 09:00,住建局,2026-11-27 18:00,已办结,2026-11-23 10:00,,,,,\n"
		for i := range 5 { // five good return visits by the 20th
			rows += fmt.Sprintf("V%d,2026-11-02 09:00,住建局,2026-11-09 18:00,已办结,2026-11-05 10:00,是,是,满意,2026-11-10 10:00,是\n", i)
		}
		// A bad return visit after the 20th does not count in that day's ranking.
		rows += "V9,2026-11-02 09:00,住建局,2026-11-09 18:00,已办结,2026-11-05 10:00,是,否,不满意,2026-11-24 10:00,是\n"
		file := filepath.Join(t.TempDir(), "tickets.csv")
		if err := os.WriteFile(file, []byte(rows), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, stdout, stderr := runAt("import", "tickets", file, "-c", cfg); code != exitOK {
			t.Fatalf("import tickets: %d %s %s", code, stdout, stderr)
		}
		code, stdout, stderr := runAt("report", "daily", "--date", "2026-11-20", "-c", cfg)
		if code != exitOK {
			t.Fatalf("report daily: %d %s", code, stderr)
		}
		for _, want := range []string{
			"**2026年11月20日 星期五**",
			"当日受理 1 件，办结 0 件；在办 0 件",
			"在办、超期、临期（24小时内到期）为11月25日10:00的当前数，不是当日数",
			"三率为2026年11月累计（11月1日至20日）",
			"**三率排名** 2026年11月累计（11月1日至20日）综合评分\n区级部门 <font color=\"info\">红榜</font>：1.住建局 100.00（回访5）",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the report of the 20th lacks %q:\n%s", want, stdout)
			}
		}
		// A day to come has no report.
		code, _, stderr = runAt("report", "daily", "--date", "2026-11-26", "-c", cfg)
		if code != exitUsage || !strings.Contains(stderr, "--date 2026-11-26 is after today (2026-11-25)") {
			t.Errorf("a future day: %d %q", code, stderr)
		}
	})
}

// groupsOrg is a district with a street's group, as DESIGN §4b writes it.
const groupsOrg = `departments:
  - {code: zjj, name: 住建局, report_required: true, sort: 10}
  - {code: hhjd, name: 环海街道, kind: 镇街, report_required: true, sort: 50}
  - {code: hbsq, name: 海滨社区, kind: 社区, parent: hhjd, report_required: true, sort: 60}
groups:
  - {code: qu, name: 区联系服务群众工作群, chat_id: wrkQu001, units: [zjj, hhjd], report_at: "18:00", remind_at: "17:30"}
  - {code: hh, name: 环海街道工作群, chat_id: wrkHh001, robot: hh, units: [hbsq], report_at: "17:30", remind_at: "17:00"}
`

// TestRunRunsTheGroupsOfItsTime: with the groups of the org file and their
// robots in wecom.robots (keys by env), `run daily-report --at` a group's
// time posts that group's report by its robot to its chat; an org naming a
// robot the config lacks is refused at import.
func TestRunRunsTheGroupsOfItsTime(t *testing.T) {
	const streetKey = "street-robot-key-cli-01"
	fake := wecomtest.New(wecomtest.WithWebhookKeys(wecomtest.DefaultWebhookKey, streetKey))
	base := fake.Start()
	defer fake.Close()
	org := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(org, []byte(groupsOrg), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf("wecom: {api_base: %q, robot: {webhook_key: %s}}\n", base, wecomtest.DefaultWebhookKey))
	if code, _, stderr := runCLI(t, nil, "import", "org", org, "-c", cfg); code != exitFail || !strings.Contains(stderr, "机器人 hh 未在配置 wecom.robots 中") {
		t.Fatalf("a group of a robot the config lacks: %d %s", code, stderr)
	}
	environ := []string{"YANZHEN_WECOM_ROBOTS_HH_WEBHOOK_KEY=" + streetKey}
	if code, stdout, stderr := runCLI(t, environ, "import", "org", org, "-c", cfg); code != exitOK {
		t.Fatalf("import org: %d %s %s", code, stdout, stderr)
	}
	posts := func() map[string]string {
		out := map[string]string{}
		for _, m := range fake.Messages() {
			if m.Route == wecomtest.RouteWebhook {
				out[m.Key+"@"+m.ChatID] += m.Content
			}
		}
		return out
	}
	code, stdout, stderr := runCLI(t, environ, "run", "daily-report", "--at", "2026-11-20 17:30", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "发布2026-11-20日报") {
		t.Fatalf("run at 17:30: %d %s %s", code, stdout, stderr)
	}
	if got := posts(); len(got) != 1 || !strings.Contains(got[streetKey+"@wrkHh001"], "环海街道接诉即办工作日报") {
		t.Errorf("at 17:30 the posts are %v", got)
	}
	if code, _, stderr := runCLI(t, environ, "run", "daily-report", "--at", "2026-11-20 18:00", "-c", cfg); code != exitOK {
		t.Fatalf("run at 18:00: %d %s", code, stderr)
	}
	if got := posts(); len(got) != 2 || !strings.Contains(got[wecomtest.DefaultWebhookKey+"@wrkQu001"], "高新区接诉即办工作日报") {
		t.Errorf("at 18:00 the posts are %v", got)
	}
	if code, stdout, _ := runCLI(t, environ, "report", "daily", "--date", "2026-11-20", "--group", "hh", "-c", cfg); code != exitOK || !strings.Contains(stdout, "# 环海街道接诉即办工作日报") {
		t.Errorf("report daily of the street's group: %d %s", code, stdout)
	}
}
