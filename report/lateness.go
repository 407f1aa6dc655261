package report

import "time"

// Workdays is the calendar Lateness counts on; *calendar.Calendar is one.
type Workdays interface {
	// Location is the zone dates are read in.
	Location() *time.Location
	// WorkdaysBetween returns the working days after the date of a up to and including the date of b.
	WorkdaysBetween(a, b time.Time) int
}

// Lateness says how a deadline stands at now, the one wording of overdue time
// for the digests and the chat: "11月21日10:00到期" before it, "已到期" within
// the first hour after it, then "超期3小时", and from the first working day
// after the deadline's date "超期2个工作日", with the calendar days in
// brackets when days off lie between: "超期1个工作日（3天）".
func Lateness(cal Workdays, deadline, now time.Time) string {
	deadline, now = deadline.In(cal.Location()), now.In(cal.Location())
	if now.Before(deadline) {
		return whenCN(deadline) + "到期"
	}
	if n := cal.WorkdaysBetween(deadline, now); n >= 1 {
		s := "超期" + itoa(n) + "个工作日"
		if days := calendarDays(deadline, now); days != n {
			s += "（" + itoa(days) + "天）"
		}
		return s
	}
	if h := int(now.Sub(deadline).Hours()); h >= 1 {
		return "超期" + itoa(h) + "小时"
	}
	return "已到期"
}

// calendarDays returns the days from the date of a to the date of b, both
// read in a's zone.
func calendarDays(a, b time.Time) int {
	date := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(date(b.In(a.Location())).Sub(date(a)) / (24 * time.Hour))
}

// Age says how long an item has stood open since a time, the one wording of
// the ledger's ages (台账, 提级): "3小时" on its first day, then "2个工作日",
// with the calendar days in brackets when days off lie between: "1个工作日（3天）".
func Age(cal Workdays, since, now time.Time) string {
	since, now = since.In(cal.Location()), now.In(cal.Location())
	if n := cal.WorkdaysBetween(since, now); n >= 1 {
		s := itoa(n) + "个工作日"
		if days := calendarDays(since, now); days != n {
			s += "（" + itoa(days) + "天）"
		}
		return s
	}
	if days := calendarDays(since, now); days >= 1 {
		return itoa(days) + "天"
	}
	return itoa(max(int(now.Sub(since).Hours()), 0)) + "小时"
}
