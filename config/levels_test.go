package config

import (
	"strings"
	"testing"
)

// TestRobotsOfTheGroups: wecom.robots names the groups' robots; their
// secrets come from the file or from YANZHEN_WECOM_ROBOTS_<NAME>_*, and a
// robot without a key, with a chat id of its own, or half its crypto is refused.
func TestRobotsOfTheGroups(t *testing.T) {
	const aes = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	c, err := Parse([]byte("wecom:\n  robots:\n    qu: {webhook_key: k-qu}\n"), []string{
		"YANZHEN_WECOM_ROBOTS_HH_WEBHOOK_KEY=k-hh", "YANZHEN_WECOM_ROBOTS_HH_TOKEN=tok", "YANZHEN_WECOM_ROBOTS_HH_AES_KEY=" + aes,
		"YANZHEN_WECOM_ROBOTS_QU_TOKEN=tq", "YANZHEN_WECOM_ROBOTS_QU_AES_KEY=" + aes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(c.WeCom.RobotNames(), ","); names != "hh,qu" {
		t.Errorf("robots %s", names)
	}
	if hh := c.WeCom.Robots["hh"]; hh.WebhookKey.Reveal() != "k-hh" || hh.Token.Reveal() != "tok" || hh.AESKey.Reveal() != aes {
		t.Errorf("robot hh from env: %v", hh)
	}
	if qu := c.WeCom.Robots["qu"]; qu.WebhookKey.Reveal() != "k-qu" || qu.Token.Reveal() != "tq" {
		t.Errorf("robot qu from file and env: %v", qu)
	}
	for _, c := range []struct{ yaml, err string }{
		{"wecom: {robots: {hh: {token: t, aes_key: " + aes + "}}}", "config: wecom.robots.hh.webhook_key must be set"},
		{"wecom: {robots: {hh: {webhook_key: k, chat_id: wrk}}}", "config: wecom.robots.hh.chat_id belongs to the group in the org file (groups[].chat_id)"},
		{"wecom: {robots: {hh: {webhook_key: k, token: t}}}", "config: wecom.robots.hh needs both token and aes_key, or neither"},
		{"wecom: {robots: {Street-1: {webhook_key: k}}}", "config: wecom.robots.Street-1 must be named with lower-case letters, digits and _ (at most 32)"},
	} {
		if _, err := Parse([]byte(c.yaml), nil); err == nil || err.Error() != c.err {
			t.Errorf("%s: %v, want %s", c.yaml, err, c.err)
		}
	}
}

// TestRaiseLimits: 提级 limits per level and category, with a default per
// level; a level the file leaves out keeps its default, and a level given
// no limit keeps its tickets.
func TestRaiseLimits(t *testing.T) {
	c, err := Parse([]byte("rules:\n  raise:\n    社区: {default: 3wd, 投诉: 2wd}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		level, category string
		want            Span
		ok              bool
	}{
		{"社区", "投诉", MustSpan("2wd"), true},
		{"社区", "咨询", MustSpan("3wd"), true},
		{"镇街", "投诉", MustSpan("10wd"), true},
	} {
		if got, ok := c.Rules.RaiseLimit(tc.level, tc.category); got != tc.want || ok != tc.ok {
			t.Errorf("%s %s: %v %v", tc.level, tc.category, got, ok)
		}
	}
	off, err := Parse([]byte("rules: {raise: {镇街: {}}}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := off.Rules.RaiseLimit("镇街", "投诉"); ok {
		t.Error("a level given no limit still raises")
	}
	d := Default()
	if l, ok := d.Rules.RaiseLimit("社区", "投诉"); !ok || l != MustSpan("5wd") {
		t.Errorf("the default community limit %v %v", l, ok)
	}
	if l, ok := d.Rules.RaiseLimit("镇街", "投诉"); !ok || l != MustSpan("10wd") {
		t.Errorf("the default street limit %v %v", l, ok)
	}
	for _, y := range []string{"rules: {raise: {部门: {default: 3wd}}}", "rules: {raise: {社区: {default: 0}}}"} {
		if _, err := Parse([]byte(y), nil); err == nil {
			t.Errorf("%s was taken", y)
		}
	}
}
