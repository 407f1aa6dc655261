package handlers

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/report"
)

// period returns the period of kind that lies back periods before the one
// of now, as rankings take it (report.RankPeriod): today, or the week,
// assessment month or quarter, the current one to date.
func (h *Handler) period(kind models.PeriodKind, back int, now time.Time) models.Period {
	for range back {
		now = report.RankPeriod(h.cfg, kind, now).Start.Add(-time.Nanosecond) // in the one before
	}
	return report.RankPeriod(h.cfg, kind, now)
}

// maxExportDays bounds the range of days an export in the chat may ask for.
const maxExportDays = 366

// rangeSeparators part the two days of a range: 2026-11-01至2026-11-20.
var rangeSeparators = regexp.MustCompile(`\s*(?:至|到|~|～|—|－－|--)\s*|\s+`)

// dayRE is one day: 2026-11-01, 2026/11/1, 2026.11.1, 2026年11月1日 or 11月1日.
var dayRE = regexp.MustCompile(`^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$`)

// exportPeriod reads the period of 导出 from what follows the workbook: a
// period word (本月, 上月, 本季度 …), one day, or a range of days; none is
// this month, and for 超期 every overdue ticket (the zero Period).
func (h *Handler) exportPeriod(words string, overdue bool, now time.Time) (models.Period, error) {
	if words == "" {
		if overdue {
			return models.Period{}, nil
		}
		return h.period(models.PeriodMonth, 0, now), nil
	}
	if p, ok := periods[words]; ok {
		return h.period(p.kind, p.back, now), nil
	}
	bad := models.Errorf(models.EINVALID, "无法识别时间“%s”，可写本月、上月、本季度、本年度或 2026-11-01至2026-11-20", words)
	parts := rangeSeparators.Split(words, -1)
	if len(parts) > 2 {
		return models.Period{}, bad
	}
	from, ok := h.day(parts[0], now)
	to := from
	if ok && len(parts) == 2 {
		to, ok = h.day(parts[1], now)
	}
	switch {
	case !ok:
		return models.Period{}, bad
	case to.Before(from):
		return models.Period{}, models.Errorf(models.EINVALID, "结束日期早于开始日期：%s", words)
	case to.Sub(from) >= maxExportDays*24*time.Hour:
		return models.Period{}, models.Errorf(models.EINVALID, "时间范围不能超过一年，请分段导出")
	}
	return models.DaysOf(from, to, h.cfg.Location()), nil
}

// day reads one day; without a year it is the last such day up to now.
func (h *Handler) day(s string, now time.Time) (time.Time, bool) {
	m := dayRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, false
	}
	month, _ := strconv.Atoi(m[2])
	dom, _ := strconv.Atoi(m[3])
	year := now.Year()
	if m[1] != "" {
		year, _ = strconv.Atoi(m[1])
	}
	t := time.Date(year, time.Month(month), dom, 0, 0, 0, 0, h.cfg.Location())
	if t.Month() != time.Month(month) || t.Day() != dom {
		return time.Time{}, false // 2月30日
	}
	if m[1] == "" && t.After(now) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, true
}
