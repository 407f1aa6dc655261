package models_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestSplitBody(t *testing.T) {
	line := strings.Repeat("住", 300) // 900 bytes
	body := strings.Join([]string{line, line, line, line, line}, "\n")
	parts := models.SplitBody(body, 2048)
	if len(parts) != 3 {
		t.Fatalf("got %d parts", len(parts))
	}
	if strings.Join(parts, "\n") != body {
		t.Error("parts do not rejoin to the body")
	}
	for _, p := range parts {
		if len(p) > 2048 || !utf8.ValidString(p) {
			t.Errorf("bad part of %d bytes", len(p))
		}
	}
	long := strings.Repeat("𠮷", 1000) // 4000 bytes in one line
	for _, p := range models.SplitBody(long, 1000) {
		if len(p) > 1000 || !utf8.ValidString(p) {
			t.Errorf("cut inside a character: %d bytes", len(p))
		}
	}
	if got := models.SplitBody("short", 2048); len(got) != 1 || got[0] != "short" {
		t.Errorf("short body = %q", got)
	}
}

func TestEnqueueDedupesAndSplits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		big := strings.Repeat(strings.Repeat("报", 100)+"\n", 20) // ~6 KB of markdown
		msg := models.Outgoing{Channel: models.ChannelRobot, Kind: models.KindMarkdown, Body: big, DedupeKey: "daily-report/2026-11-20"}
		for i := 0; i < 3; i++ {
			if err := s.Enqueue(ctx, msg); err != nil {
				t.Fatal(err)
			}
		}
		var rows []models.OutboxMessage
		s.DB(ctx).Order("id").Find(&rows)
		if len(rows) != 2 {
			t.Fatalf("three enqueues of one key gave %d rows, want the 2 parts once", len(rows))
		}
		if rows[0].Body+"\n"+rows[1].Body != strings.TrimRight(big, "\n") {
			t.Error("parts lost text")
		}
		// A rolled-back transaction leaves no message behind.
		_ = s.Tx(ctx, func(tx *models.Store) error {
			_ = tx.Enqueue(ctx, models.Outgoing{Channel: models.ChannelApp, To: "zhangsan", Kind: models.KindText, Body: "x"})
			return models.Errorf(models.EINVALID, "rollback")
		})
		var n int64
		s.DB(ctx).Model(&models.OutboxMessage{}).Count(&n)
		if n != 2 {
			t.Errorf("rolled-back enqueue left %d rows", n)
		}
	})
}

func TestAIBotRepliesAreCutNotSplit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		long := strings.Repeat(strings.Repeat("答", 100)+"\n", 80) // ~24 KB
		resp := "https://qyapi.weixin.qq.com" + models.AIBotResponsePath + "?response_code=rc"
		if err := s.Enqueue(ctx, models.Outgoing{Channel: models.ChannelReply, To: resp, Kind: models.KindMarkdown, Body: long}); err != nil {
			t.Fatal(err)
		}
		var rows []models.OutboxMessage
		s.DB(ctx).Find(&rows)
		if len(rows) != 1 || len(rows[0].Body) > models.AIBotResponseLimit || !strings.HasSuffix(rows[0].Body, "（内容过长，已截断）") {
			t.Fatalf("%d rows, first of %d bytes", len(rows), len(rows[0].Body))
		}
		if !utf8.ValidString(rows[0].Body) || !strings.HasPrefix(long, strings.SplitN(rows[0].Body, "\n……", 2)[0]) {
			t.Error("the cut reply is not a prefix of the body at a line boundary")
		}
	})
}
