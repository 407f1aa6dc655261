package models_test

import (
	"testing"

	"yanzhen/models"
)

func TestClipRunes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"路灯不亮", 5, "路灯不亮"},
		{"路灯不亮", 4, "路灯不亮"},      // fits exactly: not cut
		{"小区电梯故障停运", 5, "小区电梯…"}, // cut: n characters, the mark included
		{"abcdef", 3, "ab…"},
		{"ab", 1, "…"},
		{"ab", 0, ""},
		{"", 3, ""},
	} {
		if got := models.ClipRunes(tc.s, tc.n); got != tc.want {
			t.Errorf("ClipRunes(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for s, want := range map[string]string{
		"":                      "",
		"  路灯\n\n不亮 \t 已修复\r\n": "路灯 不亮 已修复",
		"一行":                    "一行",
	} {
		if got := models.OneLine(s); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", s, got, want)
		}
	}
}
