package report_test

import (
	"testing"

	"yanzhen/report"
)

func TestLateness(t *testing.T) {
	cal := newFixtureCal()
	for _, c := range []struct{ deadline, now, want string }{
		{"2026-11-21 10:00", "2026-11-20 10:00", "11月21日10:00到期"},
		{"2026-11-20 10:00", "2026-11-20 10:30", "已到期"},
		{"2026-11-20 10:00", "2026-11-20 15:10", "超期5小时"},
		{"2026-11-19 18:00", "2026-11-20 10:00", "超期1个工作日"},
		{"2026-11-17 09:00", "2026-11-19 08:00", "超期2个工作日"},
		{"2026-11-20 10:00", "2026-11-23 09:00", "超期1个工作日（3天）"}, // over the weekend
		{"2026-11-20 18:00", "2026-11-22 10:00", "超期40小时"},      // no working day yet
		{"2026-09-30 10:00", "2026-10-09 10:00", "超期2个工作日（9天）"}, // 国庆 is 10-01 to 10-07
	} {
		if got := report.Lateness(cal, at(c.deadline), at(c.now)); got != c.want {
			t.Errorf("Lateness(%s, %s) = %s, want %s", c.deadline, c.now, got, c.want)
		}
	}
}
