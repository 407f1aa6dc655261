package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/msg"
)

func TestRunAndReportCommands(t *testing.T) {
	fake := wecomtest.New(wecomtest.WithUsers("zhangsan", "lisi", "wangwu"))
	base := fake.Start()
	defer fake.Close()
	cfg := writeConfig(t, fmt.Sprintf("wecom: {api_base: %q, corp_id: %s, agent_id: %d, secret: %s, robot: {webhook_key: %s}}\n",
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
	if strings.Join(group, ",") != "zhangsan,lisi" {
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
	cfg := writeConfig(t, fmt.Sprintf("wecom: {api_base: %q, corp_id: %s, agent_id: %d, secret: %s, robot: {webhook_key: %s}}\n",
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
