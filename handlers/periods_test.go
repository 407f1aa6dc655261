package handlers

import (
	"testing"
	"time"

	"yanzhen/config"
	"yanzhen/models"
)

func TestExportPeriods(t *testing.T) {
	h := &Handler{cfg: config.Default().Domain()}
	loc := h.cfg.Location()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	day := func(s string) time.Time {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			panic(err)
		}
		return t
	}
	for _, c := range []struct {
		words      string
		overdue    bool
		from, to   string // to is the last day, included
		kind       models.PeriodKind
		errorsWith string
	}{
		// This month, week or quarter: to date, as rankings take them.
		{"", false, "2026-11-01", "2026-11-20", models.PeriodMonth, ""},
		{"", true, "", "", "", ""},
		{"上月", false, "2026-10-01", "2026-10-31", models.PeriodMonth, ""},
		{"本季度", false, "2026-10-01", "2026-11-20", models.PeriodQuarter, ""},
		{"上季度", false, "2026-07-01", "2026-09-30", models.PeriodQuarter, ""},
		{"本周", false, "2026-11-16", "2026-11-20", models.PeriodWeek, ""},
		{"2026-11-01至2026-11-20", false, "2026-11-01", "2026-11-20", models.PeriodSpan, ""},
		{"2026/11/1~2026/11/5", false, "2026-11-01", "2026-11-05", models.PeriodSpan, ""},
		{"11月1日 到 11月20日", false, "2026-11-01", "2026-11-20", models.PeriodSpan, ""},
		{"2026年11月3日", false, "2026-11-03", "2026-11-03", models.PeriodSpan, ""},
		// A day without a year is the last one up to now.
		{"12月1日至12月31日", false, "2025-12-01", "2025-12-31", models.PeriodSpan, ""},
		{"2026-11-20至2026-11-01", false, "", "", "", "结束日期早于开始日期：2026-11-20至2026-11-01"},
		{"2025-01-01至2026-11-01", false, "", "", "", "时间范围不能超过一年，请分段导出"},
		{"明年", false, "", "", "", "无法识别时间“明年”，可写本月、上月、本季度、本年度或 2026-11-01至2026-11-20"},
		{"2026-02-30", false, "", "", "", "无法识别时间“2026-02-30”，可写本月、上月、本季度、本年度或 2026-11-01至2026-11-20"},
	} {
		p, err := h.exportPeriod(c.words, c.overdue, now)
		if c.errorsWith != "" {
			if models.ErrorCode(err) != models.EINVALID || models.UserText(err) != c.errorsWith {
				t.Errorf("%q: %v", c.words, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.words, err)
			continue
		}
		if c.from == "" {
			if !p.IsZero() {
				t.Errorf("%q: %v – %v, want no bound", c.words, p.Start, p.End)
			}
			continue
		}
		if !p.Start.Equal(day(c.from)) || !p.End.Equal(day(c.to).AddDate(0, 0, 1)) || p.Kind != c.kind {
			t.Errorf("%q: %s %v – %v, want %s %s – %s", c.words, p.Kind, p.Start, p.End, c.kind, c.from, c.to)
		}
	}
}
