package wecomtest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fake's long connection is checked against WeCom's official client,
// @wecom/aibot-node-sdk, installed from the npm registry: the client must
// subscribe, get a pushed text message, answer it with a stream, and keep
// its connection through heartbeats it considers answered; it sends a card
// with buttons to a member, and when the member taps one it updates the
// card for the event.

const (
	nodeSDK        = "@wecom/aibot-node-sdk"
	nodeSDKVersion = "1.0.7"
)

// nodeClient is the script the official client runs: it prints what
// happens, one event a line, and answers every text message with a
// finished stream.
const nodeClient = `
const { WSClient } = require('@wecom/aibot-node-sdk');
const quiet = { debug() {}, info() {}, warn(...a) { console.error(...a); }, error(...a) { console.error(...a); } };
const c = new WSClient({ botId: process.env.BOT_ID, secret: process.env.BOT_SECRET, wsUrl: process.env.WS_URL,
  heartbeatInterval: 100, maxReconnectAttempts: 3, logger: quiet });
const card = (title, key) => ({ card_type: 'button_interaction', task_id: 'node-card-1', main_title: { title },
  button_list: [{ text: '已办结', style: 1, key }] });
c.on('authenticated', async () => {
  console.log('authenticated');
  try {
    await c.sendMessage('zhangsan', { msgtype: 'template_card', template_card: card('【点对点调度 D12】', 'sign') });
    console.log('card sent');
  } catch (e) {
    console.log('reply failed ' + JSON.stringify(e.errcode !== undefined ? e : e.message));
  }
});
c.on('event.template_card_event', async (frame) => {
  const tap = frame.body.event.template_card_event;
  console.log('tapped ' + JSON.stringify(tap));
  try {
    await c.updateTemplateCard(frame, card('已签收 · ' + frame.body.from.userid, 'done'));
    console.log('updated');
  } catch (e) {
    console.log('reply failed ' + JSON.stringify(e.errcode !== undefined ? e : e.message));
  }
});
c.on('message.text', async (frame) => {
  console.log('message ' + JSON.stringify(frame.body));
  try {
    await c.replyStream(frame, 'node-stream-1', '收到：' + frame.body.text.content, true);
    console.log('replied');
  } catch (e) {
    console.log('reply failed ' + JSON.stringify(e.errcode !== undefined ? e : e.message));
  }
});
c.on('disconnected', (why) => console.log('disconnected ' + why));
c.on('error', (e) => console.error('error ' + e.message));
c.connect();
setTimeout(() => process.exit(3), 30000);
`

// installNodeSDK installs the official client once per machine and version
// in the temporary folder, and returns its node_modules. It skips the test
// without node and npm, except in CI, where that is a failure.
func installNodeSDK(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing; CI must install Debian's nodejs and npm (see .ci/run)", tool)
			}
			t.Skipf("%s is not installed: the fake's long connection is not checked against %s@%s", tool, nodeSDK, nodeSDKVersion)
		}
	}
	dir := filepath.Join(os.TempDir(), "yanzhen-aibot-node-sdk-"+nodeSDKVersion)
	modules := filepath.Join(dir, "node_modules")
	if installed(modules) {
		return modules
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "yanzhen-aibot-node-sdk-install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", tmp, nodeSDK+"@"+nodeSDKVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", nodeSDK, nodeSDKVersion, err, out)
	}
	// A rename is atomic: another test process installing at once either
	// wins or finds the folder there, complete.
	if err := os.Rename(tmp, dir); err != nil && !installed(modules) {
		t.Fatalf("keep the installed client: %v", err)
	}
	return modules
}

// installed reports whether modules holds the pinned version of the client.
func installed(modules string) bool {
	b, err := os.ReadFile(filepath.Join(modules, filepath.FromSlash(nodeSDK), "package.json"))
	if err != nil {
		return false
	}
	var p struct{ Version string }
	return json.Unmarshal(b, &p) == nil && p.Version == nodeSDKVersion
}

func TestTheOfficialClientTalksToTheFake(t *testing.T) {
	modules := installNodeSDK(t)
	s, _ := start(t, WithAIBot("aibNode", "node-secret"))
	s.Now = nil // the client's heartbeats run on the real clock
	script := filepath.Join(t.TempDir(), "client.js")
	if err := os.WriteFile(script, []byte(nodeClient), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "BOT_ID=aibNode", "BOT_SECRET=node-secret", "WS_URL="+s.WSURL())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the client ended before %q; its errors:\n%s", prefix, stderr.String())
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
				if strings.HasPrefix(l, "reply failed") || strings.HasPrefix(l, "disconnected") {
					t.Fatalf("waiting for %q: %s\n%s", prefix, l, stderr.String())
				}
			case <-ctx.Done():
				t.Fatalf("no %q from the client; its errors:\n%s", prefix, stderr.String())
			}
		}
	}
	expect("authenticated")
	expect("card sent")
	if _, err := s.Tap("zhangsan", "node-card-1", "sign"); err != nil {
		t.Fatal(err)
	}
	var tap map[string]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(expect("tapped "), "tapped ")), &tap); err != nil {
		t.Fatal(err)
	}
	if tap["card_type"] != "button_interaction" || tap["event_key"] != "sign" || tap["task_id"] != "node-card-1" {
		t.Errorf("the client read the tap %v", tap)
	}
	expect("updated")
	if c, _ := s.Card("node-card-1"); c.Views["zhangsan"].Updated.IsZero() || !strings.Contains(string(c.Views["zhangsan"].Card), "已签收 · zhangsan") {
		t.Errorf("the card after the client's update: %+v", c)
	}
	reqID, err := s.PushText(AIBotMessage{MsgID: "node-1", ChatID: "wrkNode", UserID: "zhangsan", BotName: "雁阵", Content: "日报 正常"})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		MsgID, ChatID, ChatType string
		From                    struct{ UserID string }
		Text                    struct{ Content string }
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(expect("message "), "message ")), &body); err != nil {
		t.Fatal(err)
	}
	if body.MsgID != "node-1" || body.ChatID != "wrkNode" || body.ChatType != "group" || body.From.UserID != "zhangsan" || body.Text.Content != "@雁阵 日报 正常" {
		t.Errorf("the client read %+v", body)
	}
	expect("replied")
	// Heartbeats every 100 ms: let ten go by; a client that did not take
	// the fake's answers would count them missed and reconnect.
	time.Sleep(time.Second)
	var subscribes, acked int
	var replies []Request
	for _, r := range s.Requests() {
		switch r.Route {
		case RouteSubscribe:
			subscribes++
		case RoutePing:
			if r.Status == 200 && r.Errcode == 0 {
				acked++
			}
		case RouteRespond:
			replies = append(replies, r)
		}
	}
	if subscribes != 1 || acked < 5 {
		t.Errorf("%d subscriptions and %d answered heartbeats in a second, want 1 and about 10", subscribes, acked)
	}
	if len(replies) != 1 || !replies[0].Delivered() || replies[0].Content != "收到：@雁阵 日报 正常" || replies[0].StreamID != "node-stream-1" ||
		!replies[0].Finish || replies[0].ChatID != "wrkNode" {
		t.Errorf("the client's reply to %s: %+v", reqID, replies)
	}
}
