package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// refusalLines returns the "callback refused" lines of the kit's log.
func refusalLines(t *testing.T, k *kit) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(k.logs.String()), "\n") {
		var m map[string]any
		if line == "" || json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "callback refused" {
			continue
		}
		out = append(out, m)
	}
	return out
}

func TestRefusedCallbacksAreLoggedOncePerMinuteWithCounts(t *testing.T) {
	t.Parallel()
	k := newKit(t, models.DriverSQLite, kitOptions{})
	msg := wecomtest.RobotMessage{WebhookURL: k.wecom.WebhookURL(robotKey), ChatID: "wrkA", UserID: "zhangsan", Content: "日报 机密内容"}
	badSignature := func() {
		t.Helper()
		cb, err := k.robot.RobotText(msg)
		if err != nil {
			t.Fatal(err)
		}
		cb.Query.Set("msg_signature", strings.Repeat("0", 40))
		if status, _ := k.to("robot")(cb, nil); status != http.StatusUnauthorized {
			t.Fatalf("bad signature answered %d", status)
		}
	}
	for range 5 {
		badSignature()
	}
	// Another corp's message, signed with our token and key: wrong receiveid.
	other := k.signer(sampleToken, sampleAESKey, "wwAnotherCorp")
	if status, _ := k.to("app")(other.AppText(wecomtest.AppMessage{FromUserName: "zhangsan", Content: "帮助"})); status != http.StatusUnauthorized {
		t.Errorf("wrong receiveid answered %d", status)
	}
	// The right token with another EncodingAESKey: the signature holds, decryption fails.
	wrongKey := k.signer(aibotToken, robotAESKey, "")
	if status, _ := k.to("aibot")(wrongKey.AIBotText(wecomtest.AIBotMessage{Content: "帮助"})); status != http.StatusBadRequest {
		t.Errorf("wrong EncodingAESKey answered %d", status)
	}
	// A replay from outside the window.
	old := k.signer(robotToken, robotAESKey, "")
	old.Now = func() time.Time { return k.clock.Now().Add(-time.Hour) }
	if status, _ := k.to("robot")(old.RobotText(msg)); status != http.StatusUnauthorized {
		t.Errorf("stale callback answered %d", status)
	}

	type line struct {
		route, reason string
		count         float64
	}
	got := func() []line {
		var out []line
		for _, m := range refusalLines(t, k) {
			out = append(out, line{m["route"].(string), m["reason"].(string), m["count"].(float64)})
			if remote, _ := m["remote"].([]any); len(remote) != 1 || remote[0] != "127.0.0.1" {
				t.Errorf("remote addresses %v", m["remote"])
			}
		}
		return out
	}
	want := []line{
		{"robot", "bad signature (token)", 1},
		{"app", "wrong receiveid (CorpID)", 1},
		{"aibot", "cannot decrypt (EncodingAESKey)", 1},
		{"robot", "timestamp outside the replay window", 1},
	}
	if g := got(); !slices.Equal(g, want) {
		t.Fatalf("refusal lines\n got %v\nwant %v", g, want)
	}
	// A minute on, the next refusal writes the count of the whole minute.
	k.clock.Advance(61 * time.Second)
	badSignature()
	want = append(want, line{"robot", "bad signature (token)", 5})
	if g := got(); !slices.Equal(g, want) {
		t.Fatalf("after a minute\n got %v\nwant %v", g, want)
	}
	// Refusals that end a burst are written by the sweep once their minute is over.
	k.bot.Start(nil)
	badSignature()
	badSignature()
	k.clock.Advance(61 * time.Second)
	want = append(want, line{"robot", "bad signature (token)", 2})
	eventually(t, "the last burst written", func() bool { return len(got()) == len(want) })
	if g := got(); !slices.Equal(g, want) {
		t.Fatalf("after the burst\n got %v\nwant %v", g, want)
	}
	logs := k.logs.String()
	if strings.Contains(logs, "机密内容") || strings.Contains(logs, "Encrypt") {
		t.Errorf("a refusal logged the message:\n%s", logs)
	}
	assertNoSecrets(t, "logs", logs)
}

func TestStalledDatabaseIsAnswered500InTime(t *testing.T) {
	t.Parallel()
	clock := wecomtest.NewClock(t0)
	s1, s2 := openTwice(t, models.DriverSQLite, clock.Now)
	k := newKit(t, "", kitOptions{store: s1, clock: clock})
	bot.SetStoreWait(k.bot, 200*time.Millisecond)
	// Another connection holds SQLite's write lock, as a stopped database would.
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s2.Tx(context.Background(), func(tx *models.Store) error {
			if err := tx.PutKV(context.Background(), "test/lock", "held", nil); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	cb, err := k.robot.RobotText(wecomtest.RobotMessage{MsgID: "stalled-1", ChatID: "wrkA", UserID: "zhangsan", Content: "日报"})
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	start := time.Now()
	status, _ := k.to("robot")(cb, nil)
	took := time.Since(start)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if status != http.StatusInternalServerError || took > 2*time.Second {
		t.Fatalf("a stalled database answered %d after %v", status, took)
	}
	// The row is written once the database is back; WeCom's retry finds it.
	eventually(t, "the stalled row written", func() bool { return len(k.inbound()) == 1 })
	if status, _ := k.to("robot")(cb, nil); status != http.StatusOK {
		t.Errorf("WeCom's retry answered %d", status)
	}
	if rows := k.inbound(); len(rows) != 1 || rows[0].MsgID != "stalled-1" {
		t.Errorf("rows %+v", rows)
	}
	lines := refusalLines(t, k)
	if len(lines) != 1 || lines[0]["reason"] != "database unavailable" || lines[0]["level"] != "error" {
		t.Errorf("stall logged as %v", lines)
	}
}
