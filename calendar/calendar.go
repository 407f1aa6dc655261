// Package calendar is the working-day calendar of the Chinese mainland: public holidays and
// make-up workdays (调休) from github.com/6tail/lunar-go, plus admin overrides for the years
// lunar-go does not know yet (each year's arrangement is published in November).
//
// All dates are taken in the calendar's location, whatever the server's time zone. A date is a
// working day when an override says so, else when lunar-go says so, else when it is Monday to
// Friday.
//
// Deadlines counted in working days follow one rule, stated on AddWorkdays: working time is the
// union of whole working days, and adding n working days moves forward by n days of working time.
package calendar

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// DateLayout is the layout of Override.Date.
const DateLayout = "2006-01-02"

// The years whose arrangement lunar-go v1.4.6 holds: it starts with the make-up
// days of late 2001 and ends with 2026. LastBuiltInYear is the last year a
// service knows without overrides.
const (
	lunarFirstYear  = 2001
	LastBuiltInYear = 2026
)

// Override sets one date to a working day or a day off, winning over lunar-go and the weekend
// rule. Admins add them for years lunar-go does not cover and for local arrangements.
type Override struct {
	// Date is the day, in DateLayout (2006-01-02).
	Date string
	// Work makes the date a working day; false makes it a day off.
	Work bool
	// Name is what DayInfo reports for the date, e.g. 春节 or 春节调休. Empty means 调休上班
	// for a working day and 休息日 for a day off.
	Name string
}

// Validate reports whether o can be applied: Date must be a real date in DateLayout.
func (o Override) Validate() error {
	if _, err := time.Parse(DateLayout, o.Date); err != nil {
		return fmt.Errorf("calendar: override date %q: want YYYY-MM-DD", o.Date)
	}
	return nil
}

// day is a civil date counted in days since 1970-01-01.
type day int32

// dayOf returns the civil date of t in loc.
func dayOf(t time.Time, loc *time.Location) day {
	_, off := t.In(loc).Zone()
	s := t.Unix() + int64(off)
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return day(d)
}

// civil returns the year, month and day of d.
func (d day) civil() (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// weekday returns the day of the week of d (1970-01-01 was a Thursday).
func (d day) weekday() time.Weekday {
	w := (int(d) + int(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// dayFromDate returns the day of a civil date.
func dayFromDate(y int, m time.Month, dd int) day {
	return day(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// info is what the calendar knows about a special date.
type info struct {
	work bool
	name string
}

// lunarDays holds lunar-go's arrangement, loaded once; it is never written afterwards.
var lunarDays = sync.OnceValue(func() map[day]info {
	m := make(map[day]info, 1024)
	for y := lunarFirstYear; y <= LastBuiltInYear; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			t, err := time.Parse(DateLayout, h.GetDay())
			if err != nil {
				continue // lunar-go's own data; every entry parses
			}
			name := h.GetName()
			if h.IsWork() {
				name += "调休"
			}
			m[dayFromDate(t.Date())] = info{work: h.IsWork(), name: name}
		}
	}
	return m
})

// Calendar answers working-day questions in one location. Its methods are safe for
// concurrent use, including SetOverrides.
type Calendar struct {
	loc *time.Location
	// special maps every date that is not a plain weekday or weekend: lunar-go's
	// arrangement merged with the overrides. It is replaced whole, never modified.
	special atomic.Pointer[map[day]info]
}

// New returns a calendar for loc with the given overrides. Overrides that fail Validate are
// skipped; use SetOverrides to learn about them. New panics if loc is nil.
func New(loc *time.Location, overrides []Override) *Calendar {
	if loc == nil {
		panic("calendar: nil location")
	}
	c := &Calendar{loc: loc}
	_ = c.SetOverrides(overrides) // invalid entries are skipped, as documented
	return c
}

// Location returns the calendar's location.
func (c *Calendar) Location() *time.Location { return c.loc }

// SetOverrides replaces all overrides at once (the store calls it after an admin changes
// them). Later entries for the same date win. Entries that fail Validate are skipped and
// reported in the returned error; the valid ones are applied all the same.
func (c *Calendar) SetOverrides(overrides []Override) error {
	base := lunarDays()
	m := make(map[day]info, len(base)+len(overrides))
	for d, i := range base {
		m[d] = i
	}
	var errs []error
	for _, o := range overrides {
		t, err := time.Parse(DateLayout, o.Date)
		if err != nil {
			errs = append(errs, o.Validate())
			continue
		}
		name := o.Name
		if name == "" {
			name = "休息日"
			if o.Work {
				name = "调休上班"
			}
		}
		m[dayFromDate(t.Date())] = info{work: o.Work, name: name}
	}
	c.special.Store(&m)
	return errors.Join(errs...)
}

// weekendNames are DayInfo's names for plain weekend days.
var weekendNames = [...]string{time.Saturday: "周六", time.Sunday: "周日"}

// dayInfo reports whether d is a working day and its name.
func (c *Calendar) dayInfo(d day) (bool, string) {
	if i, ok := (*c.special.Load())[d]; ok {
		return i.work, i.name
	}
	switch w := d.weekday(); w {
	case time.Saturday, time.Sunday:
		return false, weekendNames[w]
	}
	return true, ""
}

// isWork reports whether d is a working day.
func (c *Calendar) isWork(d day) bool {
	w, _ := c.dayInfo(d)
	return w
}

// IsWorkday reports whether the date of t, in the calendar's location, is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	return c.isWork(dayOf(t, c.loc))
}

// DayInfo reports whether the date of t is a working day and names it: the holiday (国庆节),
// the make-up workday (国庆节调休), the override's name, 周六 or 周日 for a plain weekend day,
// and "" for a plain working day.
func (c *Calendar) DayInfo(t time.Time) (work bool, name string) {
	return c.dayInfo(dayOf(t, c.loc))
}

// Occasion names the date of t when the arrangement makes it special: a
// holiday (国庆节), a make-up workday (国庆节调休) or an admin's override; ""
// for a plain working day or a plain weekend day, which need no name beside
// their weekday.
func (c *Calendar) Occasion(t time.Time) string {
	return (*c.special.Load())[dayOf(t, c.loc)].name
}

// at returns the wall-clock time clock (an offset from midnight) on the date d in the
// calendar's location.
func (c *Calendar) at(d day, clock time.Duration) time.Time {
	y, m, dd := d.civil()
	return time.Date(y, m, dd, 0, 0, 0, int(clock), c.loc)
}

// wallClock returns the wall-clock time of t as an offset from midnight.
func wallClock(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

// midnight returns 00:00 of the date d in the calendar's location.
func (c *Calendar) midnight(d day) time.Time { return c.at(d, 0) }

// offset returns the date n working days after d (before it when n < 0), d itself when n is 0.
// d need not be a working day.
func (c *Calendar) offset(d day, n int) day {
	step := day(1)
	if n < 0 {
		step, n = -1, -n
	}
	for ; n > 0; n-- {
		d += step
		for !c.isWork(d) {
			d += step
		}
	}
	return d
}

// WorkdayOffset returns 00:00 of the date n working days after the date of t: the n-th working
// day after it for n > 0, the |n|-th working day before it for n < 0, and the date of t itself
// (working day or not) for n = 0. The date of t is never counted: WorkdayOffset(Friday, 1) and
// WorkdayOffset(Saturday, 1) are both the next Monday when it is a working day.
func (c *Calendar) WorkdayOffset(t time.Time, n int) time.Time {
	return c.midnight(c.offset(dayOf(t, c.loc), n))
}

// NextWorkday returns 00:00 of the first working day after the date of t.
func (c *Calendar) NextWorkday(t time.Time) time.Time { return c.WorkdayOffset(t, 1) }

// PrevWorkday returns 00:00 of the last working day before the date of t.
func (c *Calendar) PrevWorkday(t time.Time) time.Time { return c.WorkdayOffset(t, -1) }

// WorkdaysBetween returns the number of working days passed going from the date of a to the
// date of b: those after a up to and including b, or, when b is before a, minus those from b up
// to but excluding a. So WorkdaysBetween(a, WorkdayOffset(a, n)) == n for every a and n, and
// WorkdaysBetween(deadline, now) is how many working days a deadline is overdue. Clock times
// do not matter.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	da, db := dayOf(a, c.loc), dayOf(b, c.loc)
	n := 0
	for d := da + 1; d <= db; d++ {
		if c.isWork(d) {
			n++
		}
	}
	for d := db; d < da; d++ {
		if c.isWork(d) {
			n--
		}
	}
	return n
}

// EndOfWorkday returns the off-work time offWork (an offset from midnight, e.g. 18*time.Hour)
// on the date of t if that is a working day, else on the next working day.
func (c *Calendar) EndOfWorkday(t time.Time, offWork time.Duration) time.Time {
	d := dayOf(t, c.loc)
	if !c.isWork(d) {
		d = c.offset(d, 1)
	}
	return c.at(d, offWork)
}

// AddWorkdays returns the deadline n working days after t. Working time is the union of whole
// working days (00:00 to 24:00), and the result is the earliest instant by which n days of
// working time have passed since t:
//
//   - t during a working day, after 00:00: the same clock time on the n-th working day after
//     t's date. Received Friday 10:00, 3 working days → Wednesday 10:00.
//   - t on a day off, or at 00:00 of a working day: counting starts at the start of the next
//     working day (t's own date when that is a working day), and the result is the end (24:00)
//     of the n-th working day counted from there, returned as 00:00 of the following date.
//     Received Saturday, 3 working days → end of Wednesday, i.e. Thursday 00:00.
//
// A negative n counts backwards by the same rule (the latest instant |n| days of working time
// before t): one working day before Wednesday 10:00 is Tuesday 10:00, one before Thursday 00:00
// (the end of Wednesday) is Wednesday 00:00. n = 0 returns t. Results are in the calendar's
// location.
func (c *Calendar) AddWorkdays(t time.Time, n int) time.Time {
	if n == 0 {
		return t.In(c.loc)
	}
	d := dayOf(t, c.loc)
	clock := wallClock(t.In(c.loc))
	if clock > 0 && c.isWork(d) {
		return c.at(c.offset(d, n), clock)
	}
	if n > 0 {
		// The first working day of the count: d itself at 00:00 of a working day, else the next.
		start := d
		if !c.isWork(d) {
			start = c.offset(d, 1)
		}
		return c.midnight(c.offset(start, n-1) + 1)
	}
	// Backwards from a day off or from 00:00: working time before t ends with the last working
	// day before d; step back over |n| of them and return the start of the last one.
	return c.midnight(c.offset(d, n))
}

// Limit is a time limit: Days calendar days, or working days when Workdays is set, plus Hours
// calendar hours. The zero Limit is no time at all.
type Limit struct {
	Days     int
	Hours    int
	Workdays bool
}

// String renders l the way the hotline platforms write limits: 3个工作日, 5天, 24小时,
// 1天12小时; the zero Limit is 0小时.
func (l Limit) String() string {
	s := ""
	if l.Days != 0 {
		unit := "天"
		if l.Workdays {
			unit = "个工作日"
		}
		s = fmt.Sprintf("%d%s", l.Days, unit)
	}
	if l.Hours != 0 || s == "" {
		s += fmt.Sprintf("%d小时", l.Hours)
	}
	return s
}

// Deadline returns the deadline of something received at received under the limit l: Days
// working days by AddWorkdays when l.Workdays is set, else Days calendar days at the same wall
// clock time; then Hours calendar hours later.
func (c *Calendar) Deadline(received time.Time, l Limit) time.Time {
	t := received.In(c.loc)
	if l.Workdays {
		t = c.AddWorkdays(t, l.Days)
	} else {
		t = t.AddDate(0, 0, l.Days)
	}
	return t.Add(time.Duration(l.Hours) * time.Hour)
}
