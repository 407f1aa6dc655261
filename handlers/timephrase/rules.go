package timephrase

import (
	"time"
	"unicode/utf8"
)

// kind is what a rule recognizes.
type kind uint8

const (
	kindSkip   kind = iota // words that mention a time but set no deadline (上周五, 每天)
	kindSpan               // a deadline by itself (3个工作日内, 月底)
	kindDate               // a date (明天, 周五, 11月25日)
	kindPeriod             // a part of the day (上午, 下班)
	kindClock              // a clock time (3点半, 18:00)
	numKinds
)

// resolver turns the slot values of a match into a time: 00:00 of the date for kindDate, the
// deadline for kindSpan. It reports false when the values make no time (13月, 0天).
type resolver func(c context, v [3]int) (time.Time, bool)

// rule is one entry of the table.
type rule struct {
	text      string // the rule, in the pattern language of pattern.go
	kind      kind
	weak      bool // alone and without a marker it is no deadline (两点, 5号, 本周)
	past      bool // kindDate: a day gone by (昨天): a deadline only with a marker or suffix, and then a past one
	marked    bool // it holds its own suffix (3天内), so it counts as marked
	notBefore bool // followed by 前 it is no deadline: 下周前 is not within next week
	dayOfWeek bool // kindDate: it names only a day of the week (周五), in v[0]
	at        resolver
	period    *period                 // kindPeriod; for kindDate the part of the day it implies (今晚)
	clock     func([3]int) (h, m int) // kindClock
	pat       pattern
}

// period is a part of the day.
type period struct {
	end     func(Parser) time.Duration // the time it means without a clock time
	lo, hi  int                        // the hours a clock time in it may take
	pm      bool                       // an hour h ≤ 12 reads as h+12 when that is in lo…hi
	noClock bool                       // it takes no clock time (下班)
}

func fixed(d time.Duration) func(Parser) time.Duration {
	return func(Parser) time.Duration { return d }
}

var (
	morning   = period{end: Parser.onWork, lo: 4, hi: 11}
	forenoon  = period{end: fixed(noon), lo: 5, hi: 12}
	midday    = period{end: fixed(noon), lo: 11, hi: 14, pm: true}
	afternoon = period{end: Parser.offWork, lo: 12, hi: 20, pm: true}
	night     = period{end: fixed(evening), lo: 18, hi: 24, pm: true}
	offDuty   = period{end: Parser.offWork, noClock: true}
	onDuty    = period{end: Parser.onWork, noClock: true}
)

const within = "(内|之内|以内)"

// rules is the table. Within a kind the longest match wins, ties going to the earlier rule; a
// chain of date, part of the day and clock time must be strictly longer than the longest span
// or skip to win over it.
var rules = []*rule{
	{text: "上(个)?(周|星期|礼拜|月)", kind: kindSkip},
	{text: "每(个)?(周|星期|礼拜|天|日|月|年)", kind: kindSkip},
	{text: "去年", kind: kindSkip},

	{text: "{n}(个)?工作日" + within, kind: kindSpan, marked: true, at: workdays},
	{text: "{n}(天|日)" + within, kind: kindSpan, marked: true, at: days},
	{text: "{n}(周|个星期|个礼拜)" + within, kind: kindSpan, marked: true, at: weeks},
	{text: "{n}个月" + within, kind: kindSpan, marked: true, at: months},
	{text: "{n}(个)?(小时|钟头)" + within, kind: kindSpan, marked: true, at: hours},
	{text: "半(个)?(小时|钟头)" + within, kind: kindSpan, marked: true, at: halfHour},
	{text: "{n}分钟" + within, kind: kindSpan, marked: true, at: minutes},
	{text: "(本|这个|当)?月(底|末)", kind: kindSpan, at: monthEnd(0)},
	{text: "下(个)?月(底|末)", kind: kindSpan, at: monthEnd(1)},
	{text: "{n}月(底|末)", kind: kindSpan, at: monthEndOf},
	{text: "(本|今)?年(底|末)", kind: kindSpan, at: yearEnd},
	{text: "(本|这个|当)月", kind: kindSpan, weak: true, notBefore: true, at: monthEnd(0)},
	{text: "下(个)?月", kind: kindSpan, weak: true, notBefore: true, at: monthEnd(1)},
	{text: "(本|这)(周|星期|个星期|礼拜|个礼拜)", kind: kindSpan, weak: true, notBefore: true, at: weekEnd(0)},
	{text: "下(个)?(周|星期|礼拜)", kind: kindSpan, weak: true, notBefore: true, at: weekEnd(1)},
	{text: "(本|今)年", kind: kindSpan, weak: true, notBefore: true, at: yearEnd},

	{text: "(今天|今日|当天|当日)", kind: kindDate, at: rel(0)},
	{text: "(明天|明日)", kind: kindDate, at: rel(1)},
	{text: "(后天|后日)", kind: kindDate, at: rel(2)},
	{text: "大后天", kind: kindDate, at: rel(3)},
	{text: "(昨天|昨日)", kind: kindDate, past: true, at: rel(-1)},
	{text: "(昨晚|昨夜)", kind: kindDate, past: true, at: rel(-1), period: &night},
	{text: "前天", kind: kindDate, past: true, at: rel(-2)},
	{text: "(今晚|今夜)", kind: kindDate, at: rel(0), period: &night},
	{text: "(明晚|明夜)", kind: kindDate, at: rel(1), period: &night},
	{text: "(今早|今晨)", kind: kindDate, at: rel(0), period: &morning},
	{text: "(明早|明晨)", kind: kindDate, at: rel(1), period: &morning},
	{text: "(本|这)(周|星期|个星期|礼拜|个礼拜){w}", kind: kindDate, at: weekday(0)},
	{text: "下(个)?(周|星期|礼拜){w}", kind: kindDate, at: weekday(1)},
	{text: "(周|星期|礼拜){w}", kind: kindDate, dayOfWeek: true, at: nextWeekday},
	{text: "{y}年{n}月{n}(日|号)", kind: kindDate, at: ymd},
	{text: "{y}(-|－){d}(-|－){d}", kind: kindDate, at: ymd},
	{text: "{y}(/|／){d}(/|／){d}", kind: kindDate, at: ymd},
	{text: "{y}(.|．){d}(.|．){d}", kind: kindDate, at: ymd},
	{text: "{n}月{n}(日|号)", kind: kindDate, at: monthDay},
	{text: "{d}(.|/|．|／){d}", kind: kindDate, weak: true, at: monthDay},
	{text: "(本|这个|当)月{n}(日|号)", kind: kindDate, at: dayOfMonth},
	{text: "下(个)?月{n}(日|号)", kind: kindDate, at: dayOfNextMonth},
	{text: "{n}(日|号)", kind: kindDate, weak: true, at: dayOfMonth},

	{text: "(早上|早晨|清晨)", kind: kindPeriod, weak: true, period: &morning},
	{text: "上午", kind: kindPeriod, weak: true, period: &forenoon},
	{text: "中午", kind: kindPeriod, weak: true, period: &midday},
	{text: "下午", kind: kindPeriod, weak: true, period: &afternoon},
	{text: "(晚上|晚间|夜里)", kind: kindPeriod, weak: true, period: &night},
	{text: "(下午|傍晚)?下班", kind: kindPeriod, weak: true, period: &offDuty},
	{text: "(早上|上午)?上班", kind: kindPeriod, weak: true, period: &onDuty},

	{text: "{n}(点|时)半", kind: kindClock, weak: true, clock: func(v [3]int) (int, int) { return v[0], 30 }},
	{text: "{n}(点|时){n}(分)?", kind: kindClock, weak: true, clock: func(v [3]int) (int, int) { return v[0], v[1] }},
	{text: "{n}(点|时)(整|钟)?", kind: kindClock, weak: true, clock: func(v [3]int) (int, int) { return v[0], 0 }},
	{text: "{d}(:|：){mm}", kind: kindClock, clock: func(v [3]int) (int, int) { return v[0], v[1] }},
}

// marker is a word that introduces a phrase; after, if set, lists the runes that must precede
// it (besides the start of the text, blanks and punctuation).
type marker struct{ word, after string }

var markers = []marker{
	{word: "截止到"}, {word: "截止至"}, {word: "截至"}, {word: "截止"},
	{word: "于", after: "请须需必要应并限"}, // not 关于, 对于, 由于
	{word: "在", after: "请须需必要应并"},  // not 现在, 存在
}

// suffix ends a phrase; before marks the ones meaning "before".
type suffix struct {
	word   string
	before bool
}

var suffixes = []suffix{
	{"之前", true}, {"以前", true}, {"前", true}, {"之内", false}, {"以内", false}, {"内", false}, {"为止", false},
}

// notSuffix are words that start like a suffix but are none: 明天前往现场 is no 明天前.
var notSuffix = []string{"前往", "前去", "前来", "内容", "内部"}

// asides are the brackets of a date repeated in other words: 11月27日（周五）.
var asides = [][2]string{{"（", "）"}, {"(", ")"}}

// notDeadline are words after a phrase that make it a start, not a deadline.
var notDeadline = []string{"以后", "之后", "起", "开始", "以来"}

// index maps each kind and leading rune to the rules that may match there, in table order.
// Building it compiles the rules and fills leads.
var index = func() (ix [numKinds]map[rune][]*rule) {
	for k := range ix {
		ix[k] = map[rune][]*rule{}
	}
	for _, r := range rules {
		r.pat = compile(r.text)
		seen := map[rune]bool{}
		for _, lead := range r.pat.leads() {
			if !seen[lead] {
				seen[lead] = true
				ix[r.kind][lead] = append(ix[r.kind][lead], r)
				leads.add(lead)
			}
		}
	}
	for _, m := range markers {
		r, _ := utf8.DecodeRuneInString(m.word)
		leads.add(r)
	}
	return ix
}()

// runeSet is a set of runes of the Basic Multilingual Plane, where every lead rune lies.
type runeSet [0x10000 / 64]uint64

func (s *runeSet) add(r rune)      { s[r>>6] |= 1 << (r & 63) }
func (s *runeSet) has(r rune) bool { return r < 0x10000 && s[r>>6]&(1<<(r&63)) != 0 }

// leads holds every rune a phrase or a marker can start with, so that the scan passes over
// the others at once.
var leads runeSet

// rulesAt returns the rules of kind k that may match at text[i:].
func rulesAt(text string, i int, k kind) []*rule {
	if i >= len(text) {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return index[k][r]
}

// context holds what resolving a match needs.
type context struct {
	p     Parser
	now   time.Time // in p.Loc
	today time.Time // 00:00 of now's date
}

func newContext(p Parser, now time.Time) context {
	now = now.In(p.Loc)
	y, m, d := now.Date()
	return context{p: p, now: now, today: time.Date(y, m, d, 0, 0, 0, 0, p.Loc)}
}

func (p Parser) onWork() time.Duration {
	if p.OnWork == 0 {
		return DefaultOnWork
	}
	return p.OnWork
}

func (p Parser) offWork() time.Duration {
	if p.OffWork == 0 {
		return DefaultOffWork
	}
	return p.OffWork
}

// resolve returns the time m means, or false when it means none.
func (c context) resolve(m *match) (time.Time, bool) {
	if m.span != nil {
		return m.span.at(c, m.spanV.v)
	}
	date := c.today
	if m.date != nil {
		var ok bool
		if date, ok = m.date.at(c, m.dateV.v); !ok {
			return time.Time{}, false
		}
	}
	if m.aside != nil && !c.names(m.aside, m.asideV.v, date) {
		return time.Time{}, false // 周五（11月27日） on another Friday: which one?
	}
	switch {
	case m.clock != nil:
		h, mi := m.clock.clock(m.clockV.v)
		h, ok := c.hour(h, mi, m.period, m.date == nil)
		if !ok || mi < 0 || mi > 59 || h == 24 && mi > 0 {
			return time.Time{}, false
		}
		return c.at(date, time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute), true
	case m.period != nil:
		return c.at(date, m.period.end(c.p)), true
	}
	return c.at(date, c.p.offWork()), true
}

// names reports whether the date rule r with values v names date: by its day of the week for
// 周五, else by resolving it.
func (c context) names(r *rule, v [3]int, date time.Time) bool {
	if r.dayOfWeek {
		return isoWeekday(date) == v[0]
	}
	d, ok := r.at(c, v)
	return ok && d.Equal(date)
}

// hour reads the hour h of a clock time h:mi in the part of the day per, if any; bare tells
// that no date was written (the clock time is today's).
func (c context) hour(h, mi int, per *period, bare bool) (int, bool) {
	if per != nil {
		if per.pm && h <= 12 && h+12 >= per.lo && h+12 <= per.hi {
			h += 12
		}
		return h, h >= per.lo && h <= per.hi
	}
	clock := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute
	switch {
	case h >= 1 && h <= 6:
		h += 12
	case h >= 7 && h <= 11 && bare && !c.at(c.today, clock).After(c.now):
		h += 12
	}
	return h, h >= 0 && h <= 24
}

// at returns the wall-clock time clock (an offset from midnight) on the date of d.
func (c context) at(d time.Time, clock time.Duration) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, int(clock), c.p.Loc)
}

// date returns 00:00 of a date, or false when there is no such date (or the year is absurd).
func (c context) date(y, m, d int) (time.Time, bool) {
	if y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, c.p.Loc)
	return t, t.Day() == d
}

// isWorkday asks the calendar about the date of d, at noon so that a calendar in another
// location still sees the same date.
func (c context) isWorkday(d time.Time) bool {
	return c.p.Cal.IsWorkday(c.at(d, noon))
}

// lastWorkday returns the last working day from first to last, or last when there is none.
func (c context) lastWorkday(first, last time.Time) time.Time {
	for d := last; !d.Before(first); d = d.AddDate(0, 0, -1) {
		if c.isWorkday(d) {
			return d
		}
	}
	return last
}

// isoWeekday returns 1 for Monday … 7 for Sunday.
func isoWeekday(t time.Time) int {
	if w := t.Weekday(); w != time.Sunday {
		return int(w)
	}
	return 7
}

// monday returns 00:00 of the Monday of the week of today, weeks later.
func (c context) monday(weeks int) time.Time {
	return c.today.AddDate(0, 0, 7*weeks+1-isoWeekday(c.today))
}

// sixMonthsAgo reports whether t is more than half a year before today.
func (c context) sixMonthsAgo(t time.Time) bool {
	return t.AddDate(0, 6, 0).Before(c.today)
}

func rel(days int) resolver {
	return func(c context, _ [3]int) (time.Time, bool) { return c.today.AddDate(0, 0, days), true }
}

func weekday(weeks int) resolver {
	return func(c context, v [3]int) (time.Time, bool) {
		return c.monday(weeks).AddDate(0, 0, v[0]-1), true
	}
}

func nextWeekday(c context, v [3]int) (time.Time, bool) {
	return c.today.AddDate(0, 0, (v[0]-isoWeekday(c.today)+7)%7), true
}

func ymd(c context, v [3]int) (time.Time, bool) { return c.date(v[0], v[1], v[2]) }

func monthDay(c context, v [3]int) (time.Time, bool) {
	t, ok := c.date(c.today.Year(), v[0], v[1])
	if ok && c.sixMonthsAgo(t) {
		return c.date(c.today.Year()+1, v[0], v[1])
	}
	return t, ok
}

func dayOfMonth(c context, v [3]int) (time.Time, bool) {
	t, ok := c.date(c.today.Year(), int(c.today.Month()), v[0])
	if ok && t.AddDate(0, 0, 15).Before(c.today) {
		return dayOfNextMonth(c, v)
	}
	return t, ok
}

func dayOfNextMonth(c context, v [3]int) (time.Time, bool) {
	next := c.today.AddDate(0, 0, 1-c.today.Day()).AddDate(0, 1, 0)
	return c.date(next.Year(), int(next.Month()), v[0])
}

func (c context) endOfWork(d time.Time) time.Time { return c.at(d, c.p.offWork()) }

func workdays(c context, v [3]int) (time.Time, bool) {
	if v[0] < 1 || v[0] > 366 {
		return time.Time{}, false
	}
	y, m, d := c.p.Cal.WorkdayOffset(c.now, v[0]).Date()
	t, ok := c.date(y, int(m), d)
	return c.endOfWork(t), ok
}

func days(c context, v [3]int) (time.Time, bool) {
	return c.endOfWork(c.today.AddDate(0, 0, v[0])), v[0] >= 1 && v[0] <= 366
}

func weeks(c context, v [3]int) (time.Time, bool) {
	return c.endOfWork(c.today.AddDate(0, 0, 7*v[0])), v[0] >= 1 && v[0] <= 52
}

// months adds calendar months, ending on the month's last day when it is shorter (1月31日
// plus one month is the end of February).
func months(c context, v [3]int) (time.Time, bool) {
	n := v[0]
	first := c.today.AddDate(0, 0, 1-c.today.Day()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1)
	t := first.AddDate(0, 0, c.today.Day()-1)
	if t.After(last) {
		t = last
	}
	return c.endOfWork(t), n >= 1 && n <= 24
}

func hours(c context, v [3]int) (time.Time, bool) {
	return c.now.Add(time.Duration(v[0]) * time.Hour), v[0] >= 1 && v[0] <= 999
}

func halfHour(c context, _ [3]int) (time.Time, bool) { return c.now.Add(30 * time.Minute), true }

func minutes(c context, v [3]int) (time.Time, bool) {
	return c.now.Add(time.Duration(v[0]) * time.Minute), v[0] >= 1
}

// endOfMonth returns the end of work on the last working day of the month starting at first.
func (c context) endOfMonth(first time.Time) time.Time {
	return c.endOfWork(c.lastWorkday(first, first.AddDate(0, 1, -1)))
}

func monthEnd(months int) resolver {
	return func(c context, _ [3]int) (time.Time, bool) {
		return c.endOfMonth(c.today.AddDate(0, 0, 1-c.today.Day()).AddDate(0, months, 0)), true
	}
}

func monthEndOf(c context, v [3]int) (time.Time, bool) {
	first, ok := c.date(c.today.Year(), v[0], 1)
	if ok && c.sixMonthsAgo(first.AddDate(0, 1, -1)) {
		first = first.AddDate(1, 0, 0)
	}
	return c.endOfMonth(first), ok
}

func weekEnd(weeks int) resolver {
	return func(c context, _ [3]int) (time.Time, bool) {
		mon := c.monday(weeks)
		return c.endOfWork(c.lastWorkday(mon, mon.AddDate(0, 0, 6))), true
	}
}

func yearEnd(c context, _ [3]int) (time.Time, bool) {
	y := c.today.Year()
	return c.endOfWork(c.lastWorkday(time.Date(y, 12, 1, 0, 0, 0, 0, c.p.Loc), time.Date(y, 12, 31, 0, 0, 0, 0, c.p.Loc))), true
}
