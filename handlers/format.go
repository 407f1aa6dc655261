package handlers

import (
	"strings"
	"time"

	"yanzhen/models"
)

var weekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// deadlineText writes a deadline as people read it: 11月21日（周六）12:00. A
// deadline at midnight is the end of the day before: 11月20日（周五）24:00.
// The year is written only when it is not now's.
func deadlineText(t, now time.Time) string {
	t = t.In(now.Location())
	day, clock := t, t.Format("15:04")
	if clock == "00:00" {
		day, clock = t.Add(-time.Minute), "24:00"
	}
	layout := "1月2日"
	if day.Year() != now.Year() {
		layout = "2006年1月2日"
	}
	return day.Format(layout) + "（" + weekdays[day.Weekday()] + "）" + clock
}

// timeText writes when something happened: 11月20日 16:05.
func timeText(t, now time.Time) string {
	t = t.In(now.Location())
	if t.Year() != now.Year() {
		return t.Format("2006年1月2日 15:04")
	}
	return t.Format("1月2日 15:04")
}

// dayText writes a report day "2006-01-02" as 11月20日.
func dayText(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("1月2日")
}

// memberText names a member with their department, or a leader, a
// supervisor or the 12345 office with the title: 张三（住建局）, 王五（区领导）,
// 周九（督导专班）.
func memberText(dir *models.Directory, m *models.Member) string {
	if d := departmentName(dir, m); d != "" {
		return m.Name + "（" + d + "）"
	}
	switch m.Role {
	case models.RoleLeader, models.RoleSupervisor, models.RoleHotline:
		return m.Name + "（" + m.Role.Chinese() + "）"
	}
	return m.Name
}

// names joins members' names with 、.
func names(ms []*models.Member) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return strings.Join(out, "、")
}
