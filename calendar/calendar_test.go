package calendar

import (
	"sync"
	"testing"
	"time"
)

var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" in Asia/Shanghai.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// overrides2027 are the kind of entries an admin adds in November for the next year.
var overrides2027 = []Override{
	{Date: "2027-02-05", Work: false, Name: "春节"},   // a Friday made a holiday
	{Date: "2027-02-20", Work: true, Name: "春节调休"},  // a Saturday made a workday
	{Date: "2026-11-19", Work: false, Name: "区级停工"}, // a 2026 workday turned off
	{Date: "2026-10-08", Work: true, Name: ""},      // a lunar-go day off turned to work
	{Date: "2027-03-01", Work: false},               // unnamed day off
	{Date: "2027-02-05", Work: false, Name: "春节假期"}, // a later entry for the same date wins
}

func TestDayInfo(t *testing.T) {
	c := New(shanghai, overrides2027)
	tests := []struct {
		date string
		work bool
		name string
	}{
		// 2025: 国庆 and 中秋 together, Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked.
		{"2025-09-26", true, ""},
		{"2025-09-27", false, "周六"},
		{"2025-09-28", true, "国庆中秋调休"},
		{"2025-09-30", true, ""},
		{"2025-10-01", false, "国庆中秋"},
		{"2025-10-06", false, "国庆中秋"},
		{"2025-10-08", false, "国庆中秋"},
		{"2025-10-09", true, ""},
		{"2025-10-11", true, "国庆中秋调休"},
		{"2025-10-12", false, "周日"},
		// 2026 (国办发明电〔2025〕7号): 元旦 Jan 1-3, Sun Jan 4 worked.
		{"2026-01-01", false, "元旦节"},
		{"2026-01-03", false, "元旦节"},
		{"2026-01-04", true, "元旦节调休"},
		// 春节 Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked.
		{"2026-02-13", true, ""},
		{"2026-02-14", true, "春节调休"},
		{"2026-02-15", false, "春节"},
		{"2026-02-17", false, "春节"},
		{"2026-02-23", false, "春节"},
		{"2026-02-24", true, ""},
		{"2026-02-28", true, "春节调休"},
		{"2026-03-01", false, "周日"},
		// 清明 Apr 4-6; 劳动节 May 1-5, Sat May 9 worked; 端午 Jun 19-21.
		{"2026-04-06", false, "清明节"},
		{"2026-05-05", false, "劳动节"},
		{"2026-05-09", true, "劳动节调休"},
		{"2026-06-19", false, "端午节"},
		// 中秋 Sep 25-27; 国庆 Oct 1-7, Sun Sep 20 and Sat Oct 10 worked.
		{"2026-09-20", true, "国庆节调休"},
		{"2026-09-25", false, "中秋节"},
		{"2026-10-01", false, "国庆节"},
		{"2026-10-07", false, "国庆节"},
		{"2026-10-10", true, "国庆节调休"},
		// Plain weeks.
		{"2026-11-20", true, ""},
		{"2026-11-21", false, "周六"},
		{"2026-11-22", false, "周日"},
		// Overrides win over lunar-go and the weekend rule.
		{"2026-11-19", false, "区级停工"},
		{"2026-10-08", true, "调休上班"},
		{"2027-02-04", true, ""},
		{"2027-02-05", false, "春节假期"},
		{"2027-02-06", false, "周六"},
		{"2027-02-20", true, "春节调休"},
		{"2027-03-01", false, "休息日"},
		// Beyond every source: weekends only.
		{"2030-01-01", true, ""},
	}
	for _, tt := range tests {
		day := at(tt.date + " 12:00")
		work, name := c.DayInfo(day)
		if work != tt.work || name != tt.name {
			t.Errorf("DayInfo(%s) = %v %q, want %v %q", tt.date, work, name, tt.work, tt.name)
		}
		// Occasion names the same days, but not a plain weekend.
		occasion := tt.name
		if occasion == "周六" || occasion == "周日" {
			occasion = ""
		}
		if got := c.Occasion(day); got != occasion {
			t.Errorf("Occasion(%s) = %q, want %q", tt.date, got, occasion)
		}
		if got := c.IsWorkday(day); got != tt.work {
			t.Errorf("IsWorkday(%s) = %v, want %v", tt.date, got, tt.work)
		}
	}
}

func TestDateIsTakenInTheCalendarLocation(t *testing.T) {
	c := New(shanghai, nil)
	// 2026-11-20 17:00 UTC is Saturday 01:00 in Shanghai; 2026-11-22 17:00 UTC is Monday.
	if c.IsWorkday(time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)) {
		t.Error("Friday 17:00 UTC is Saturday in Shanghai: want a day off")
	}
	ny := mustLoad("America/New_York")
	if !c.IsWorkday(time.Date(2026, 11, 22, 12, 0, 0, 0, ny)) {
		t.Error("Sunday 12:00 in New York is Monday 01:00 in Shanghai: want a working day")
	}
	got := c.WorkdayOffset(time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC), 0)
	if want := at("2026-11-21 00:00"); !got.Equal(want) || got.Location() != shanghai {
		t.Errorf("WorkdayOffset(.., 0) = %v, want %v in Asia/Shanghai", got, want)
	}
	if c.Location() != shanghai {
		t.Error("Location() is not the one given to New")
	}
}

func TestAddWorkdays(t *testing.T) {
	c := New(shanghai, overrides2027)
	tests := []struct {
		from string
		n    int
		want string
	}{
		// The brief's examples.
		{"2026-11-20 10:00", 3, "2026-11-25 10:00"}, // Friday → Wednesday, same clock time
		{"2026-11-21 10:00", 3, "2026-11-26 00:00"}, // Saturday → end of Wednesday
		{"2026-11-22 23:59", 3, "2026-11-26 00:00"}, // Sunday night alike
		{"2026-11-23 00:00", 3, "2026-11-26 00:00"}, // Monday 00:00 is the same instant of working time
		{"2026-11-23 00:01", 3, "2026-11-26 00:01"},
		{"2026-11-20 10:00", 1, "2026-11-23 10:00"},
		{"2026-11-20 00:00", 1, "2026-11-21 00:00"}, // end of Friday
		{"2026-11-20 10:00", 0, "2026-11-20 10:00"},
		// 2025 国庆中秋: Sun Sep 28 worked, Oct 1-8 off, Sat Oct 11 worked.
		{"2025-09-26 10:00", 1, "2025-09-28 10:00"},
		{"2025-09-26 10:00", 3, "2025-09-30 10:00"},
		{"2025-09-30 17:30", 1, "2025-10-09 17:30"},
		{"2025-10-09 09:00", 2, "2025-10-11 09:00"},
		{"2025-10-04 15:00", 3, "2025-10-12 00:00"}, // received on the holiday: Oct 9, 10, 11
		{"2025-09-27 08:00", 1, "2025-09-29 00:00"}, // plain Saturday before a make-up Sunday
		// 2026 春节: Sat Feb 14 worked, Feb 15-23 off, Sat Feb 28 worked.
		{"2026-02-13 10:00", 1, "2026-02-14 10:00"},
		{"2026-02-13 10:00", 2, "2026-02-24 10:00"},
		{"2026-02-16 10:00", 1, "2026-02-25 00:00"},
		{"2026-02-27 16:00", 1, "2026-02-28 16:00"},
		// Backwards: the warning "1 working day before the deadline".
		{"2026-02-24 10:00", -1, "2026-02-14 10:00"},
		{"2026-11-26 00:00", -1, "2026-11-25 00:00"},
		{"2026-11-26 00:00", -3, "2026-11-23 00:00"},
		{"2026-11-21 10:00", -1, "2026-11-20 00:00"}, // from a Saturday: the start of Friday
		{"2025-10-09 10:00", -1, "2025-09-30 10:00"},
		// Overrides: 2026-11-19 off, 2027-02-05 off, 2027-02-20 worked.
		{"2026-11-18 10:00", 1, "2026-11-20 10:00"},
		{"2027-02-04 10:00", 1, "2027-02-08 10:00"},
		{"2027-02-19 10:00", 1, "2027-02-20 10:00"},
	}
	for _, tt := range tests {
		got := c.AddWorkdays(at(tt.from), tt.n)
		if want := at(tt.want); !got.Equal(want) {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tt.from, tt.n, got.Format("2006-01-02 15:04 Mon"), tt.want)
		}
		if got.Location() != shanghai {
			t.Errorf("AddWorkdays(%s, %d) is in %v, want Asia/Shanghai", tt.from, tt.n, got.Location())
		}
	}
}

func TestAddWorkdaysRoundTrip(t *testing.T) {
	c := New(shanghai, nil)
	start := at("2025-09-20 00:00")
	for h := 0; h < 24*60; h += 7 {
		t0 := start.Add(time.Duration(h) * time.Hour)
		for _, n := range []int{1, 2, 5} {
			fwd := c.AddWorkdays(t0, n)
			if !fwd.After(t0) {
				t.Fatalf("AddWorkdays(%v, %d) = %v, not after", t0, n, fwd)
			}
			back := c.AddWorkdays(fwd, -n)
			// Back lands on t0, or on the start of the working time t0 waited for.
			if !back.Equal(t0) && !back.Equal(c.WorkdayOffset(t0, 0)) && !back.Equal(c.NextWorkday(t0)) {
				t.Fatalf("AddWorkdays(AddWorkdays(%v, %d), %d) = %v", t0, n, -n, back)
			}
		}
	}
}

func TestWorkdayOffsetAndBetween(t *testing.T) {
	c := New(shanghai, nil)
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-20 10:00", 1, "2026-11-23"},
		{"2026-11-21 10:00", 1, "2026-11-23"},
		{"2026-11-21 10:00", 0, "2026-11-21"},
		{"2026-11-23 10:00", -1, "2026-11-20"},
		{"2026-11-22 10:00", -1, "2026-11-20"},
		{"2025-09-30 10:00", 1, "2025-10-09"},
		{"2025-10-09 10:00", -1, "2025-09-30"},
		{"2025-09-26 10:00", 5, "2025-10-10"},
		{"2026-02-13 10:00", 2, "2026-02-24"},
		{"2026-02-24 10:00", -5, "2026-02-10"}, // Sat Feb 14 counts
	}
	for _, tt := range tests {
		from := at(tt.from)
		got := c.WorkdayOffset(from, tt.n)
		if want := at(tt.want + " 00:00"); !got.Equal(want) {
			t.Errorf("WorkdayOffset(%s, %d) = %v, want %s", tt.from, tt.n, got, tt.want)
		}
		if w := c.WorkdaysBetween(from, got); tt.n != 0 && w != tt.n {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.from, tt.want, w, tt.n)
		}
	}
	if got := c.WorkdaysBetween(at("2026-11-20 23:00"), at("2026-11-20 01:00")); got != 0 {
		t.Errorf("WorkdaysBetween on one date = %d, want 0", got)
	}
	if got := c.NextWorkday(at("2025-09-30 18:00")); !got.Equal(at("2025-10-09 00:00")) {
		t.Errorf("NextWorkday = %v", got)
	}
	if got := c.PrevWorkday(at("2026-02-24 08:00")); !got.Equal(at("2026-02-14 00:00")) {
		t.Errorf("PrevWorkday = %v", got)
	}
}

func TestEndOfWorkday(t *testing.T) {
	c := New(shanghai, nil)
	off := 18 * time.Hour
	tests := []struct{ t, want string }{
		{"2026-11-20 10:00", "2026-11-20 18:00"},
		{"2026-11-20 20:00", "2026-11-20 18:00"}, // the date's end, even when already past
		{"2026-11-21 10:00", "2026-11-23 18:00"},
		{"2025-10-01 10:00", "2025-10-09 18:00"},
	}
	for _, tt := range tests {
		if got := c.EndOfWorkday(at(tt.t), off); !got.Equal(at(tt.want)) {
			t.Errorf("EndOfWorkday(%s) = %v, want %s", tt.t, got, tt.want)
		}
	}
	if got := c.EndOfWorkday(at("2026-11-20 10:00"), 17*time.Hour+30*time.Minute); !got.Equal(at("2026-11-20 17:30")) {
		t.Errorf("EndOfWorkday(17:30) = %v", got)
	}
}

func TestDeadline(t *testing.T) {
	c := New(shanghai, nil)
	tests := []struct {
		received string
		limit    Limit
		want     string
		text     string
	}{
		{"2026-11-20 10:00", Limit{Days: 3, Workdays: true}, "2026-11-25 10:00", "3个工作日"},
		{"2026-11-21 10:00", Limit{Days: 3, Workdays: true}, "2026-11-26 00:00", "3个工作日"},
		{"2026-11-20 10:00", Limit{Hours: 24}, "2026-11-21 10:00", "24小时"},
		{"2026-11-20 10:00", Limit{Days: 5}, "2026-11-25 10:00", "5天"},
		{"2026-11-20 10:00", Limit{Days: 1, Hours: 12}, "2026-11-21 22:00", "1天12小时"},
		{"2025-09-30 10:00", Limit{Days: 1, Workdays: true, Hours: 2}, "2025-10-09 12:00", "1个工作日2小时"},
		{"2026-11-20 10:00", Limit{}, "2026-11-20 10:00", "0小时"},
	}
	for _, tt := range tests {
		if got := c.Deadline(at(tt.received), tt.limit); !got.Equal(at(tt.want)) {
			t.Errorf("Deadline(%s, %+v) = %v, want %s", tt.received, tt.limit, got, tt.want)
		}
		if got := tt.limit.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.limit, got, tt.text)
		}
	}
}

func TestOverridesValidation(t *testing.T) {
	bad := []Override{{Date: "2027-2-5"}, {Date: "2027-02-30"}, {Date: ""}, {Date: "2027/02/05"}}
	for _, o := range bad {
		if o.Validate() == nil {
			t.Errorf("Validate(%q) = nil, want an error", o.Date)
		}
	}
	c := New(shanghai, append(bad, Override{Date: "2027-02-05", Name: "春节"}))
	if c.IsWorkday(at("2027-02-05 10:00")) {
		t.Error("the valid override next to invalid ones was not applied by New")
	}
	err := c.SetOverrides(append(bad, Override{Date: "2027-02-08", Name: "春节"}))
	if err == nil {
		t.Fatal("SetOverrides with invalid dates returned nil")
	}
	if c.IsWorkday(at("2027-02-08 10:00")) || !c.IsWorkday(at("2027-02-05 10:00")) {
		t.Error("SetOverrides did not replace the overrides with the valid ones")
	}
	if err := c.SetOverrides(nil); err != nil || !c.IsWorkday(at("2027-02-08 10:00")) {
		t.Errorf("SetOverrides(nil) = %v; overrides must be gone", err)
	}
}

func TestNewPanicsOnNilLocation(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil, nil) did not panic")
		}
	}()
	New(nil, nil)
}

func TestConcurrentSetOverrides(t *testing.T) {
	c := New(shanghai, nil)
	day := at("2027-02-05 10:00")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				c.IsWorkday(day)
				c.AddWorkdays(day, 3)
			}
		}()
	}
	for j := 0; j < 50; j++ {
		_ = c.SetOverrides([]Override{{Date: "2027-02-05", Work: j%2 == 0}})
	}
	wg.Wait()
}

func BenchmarkIsWorkday(b *testing.B) {
	c := New(shanghai, overrides2027)
	days := make([]time.Time, 366)
	for i := range days {
		days[i] = at("2026-01-01 10:00").AddDate(0, 0, i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.IsWorkday(days[i%len(days)])
	}
}

func BenchmarkAddWorkdays(b *testing.B) {
	c := New(shanghai, nil)
	t0 := at("2025-09-26 10:00")
	for i := 0; i < b.N; i++ {
		c.AddWorkdays(t0, 5)
	}
}
