package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"yanzhen/demo"
)

// TestDemoOnTheAIBotsLongConnection runs the demo as an installation with
// the AI bot alone: what is said goes to the bot as frames of its long
// connection, and the page shows the same answers, reports and messages.
func TestDemoOnTheAIBotsLongConnection(t *testing.T) {
	d := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), "YANZHEN_SCHEDULE_ENABLED=false", demo.AIBotWSEnv)
	events := d.stream(t)

	d.post(t, "/demo/say", map[string]string{"userid": demo.StrangerID, "text": "你好"})
	events.await(t, "the stranger's refusal", groupSays("您尚未登记，请联系管理员"))
	d.post(t, "/demo/say", map[string]string{"userid": "huangzhiming", "text": "日报 今日受理工单6件，办结5件，1件正在协调。"})
	events.await(t, "the head's confirmation", groupSays("卫健委", "日报"))
	d.post(t, "/demo/run", map[string]string{"job": "daily-report"})
	report := events.await(t, "卫健委's section of the 18:00 report", groupSays("卫健委", "今日受理工单6件，办结5件，1件正在协调。"))
	if report.MsgType != "markdown" || !strings.Contains(report.Content, "**") {
		t.Errorf("the report is not markdown: %+v", report)
	}
	d.post(t, "/demo/say", map[string]string{"userid": "zhoujianguo", "text": "调度 @住建局 明天下班前报送海景花园电梯维修整改方案"})
	events.await(t, "the head's message in their single chat", func(e demo.Event) bool {
		return e.Kind == demo.EventApp && slices.Contains(e.To, "wangjianhua") && strings.Contains(e.Content, "海景花园电梯维修整改方案")
	})
	resp, err := http.Get(d.url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	for _, want := range []string{"智能机器人长连接", "long connection up"} {
		if !strings.Contains(d.logs.String(), want) {
			t.Errorf("the demo's logs lack %q", want)
		}
	}
}
