// Package timephrase finds a deadline phrase written in Chinese anywhere in a message and turns
// it into a time: 明天中午前, 下午3点半, 周五下班前, 11月25日前, 2026-11-25 18:00, 3个工作日内, 月底前.
//
// A phrase is an optional marker (于, 截至, 截止, 在 after 请/须/…), then either a span
// (3个工作日内, 24小时内, 月底, 本周内) or a date, a part of the day and a clock time in that
// order with at least one of them, then an optional suffix (前, 之前, 以前, 内, 之内, 以内, 为止).
// Blanks may separate the parts and the suffix: 2026-11-25 18:00 前.
// The words are a table of rules (rules.go), not code.
//
// The rules a district official expects:
//   - A date without a time means the end of that working day: the off-work time (下班,
//     OffWork, default 18:00). So do 下午 and 下班. 上午 and 中午 mean 12:00, 早上 and 上班 the
//     start of work (OnWork, default 09:00), 晚上 21:00.
//   - A clock time in a part of the day is read in it: 下午3点 is 15:00, 晚上8点 20:00, 晚上12点
//     24:00, 中午1点 13:00. A bare hour 1–6 is in the afternoon (3点 is 15:00: nobody sets a
//     deadline at 3 a.m.); a bare hour 7–11 is in the morning, unless no date is written and
//     that is already past (at 10:30, 8点前 is 20:00 but 今天8点前 is past); 0 and 12–24 are as
//     written.
//   - 周五 and 星期五 are the next Friday, today included; 本周五 is this week's (weeks start on
//     Monday), 下周五 next week's.
//   - 11月25日 is this year's, unless that is more than half a year ago (in December, 1月5日
//     is next January); 25日 and 25号 are this month's, unless that is more than half a month ago.
//   - N个工作日内 ends at the off-work time of the N-th working day after today; N天内 and N周内
//     at the off-work time N calendar days or weeks after today; N小时内 and N分钟内 exactly then.
//   - 月底 and 本月内 end at the off-work time of the month's last working day; 本周内 and 年底
//     alike for the week and the year.
//   - A deadline on a day off is kept (the leader wrote it) and flagged in Result.OffDay.
//   - A deadline that is not after now is an error (*Error with Past set): 今天9点前 at 10:00,
//     and 昨天下班前; a day gone by (昨天, 前天) is a deadline only with a marker or a suffix.
//
// A date may be repeated in brackets, 11月27日（周五）; when the two disagree the phrase is
// unreadable.
//
// Words that merely mention a time are not deadlines: 尽快, 立即, 上周五, 每天, 昨天下午的, 明天起,
// 本周以来; 明天前往 is 明天 followed by 前往. Ambiguous short forms (两点, 5号, 本周, 11.25)
// count only with a marker: 两点前, 5号前, 本周内, 11.25前. With several phrases, the first
// marked one wins, else the first one.
package timephrase

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Workdays is the working-day calendar the parser needs; *calendar.Calendar satisfies it.
type Workdays interface {
	// IsWorkday reports whether the date of t is a working day.
	IsWorkday(t time.Time) bool
	// WorkdayOffset returns 00:00 of the n-th working day after the date of t (not counting it).
	WorkdayOffset(t time.Time, n int) time.Time
}

// Default times of day, as offsets from midnight.
const (
	DefaultOnWork  = 9 * time.Hour
	DefaultOffWork = 18 * time.Hour
	noon           = 12 * time.Hour
	evening        = 21 * time.Hour
)

// Parser finds deadline phrases. Loc and Cal are required; the zero OnWork and OffWork mean
// DefaultOnWork and DefaultOffWork. A Parser is safe for concurrent use.
type Parser struct {
	// Loc is the location deadlines are read in, whatever the server's time zone.
	Loc *time.Location
	// Cal tells working days from days off.
	Cal Workdays
	// OnWork is the start of work (上班, 早上) as an offset from midnight.
	OnWork time.Duration
	// OffWork is the end of work (下班, 下午, and the time of a date given alone).
	OffWork time.Duration
}

// Result is what Find found.
type Result struct {
	// Found reports whether the text holds a deadline phrase (even one Find could not use).
	Found bool
	// Deadline is the time the phrase means, in the parser's location.
	Deadline time.Time
	// Phrase is the phrase as written, its suffix included, e.g. 明天中午前.
	Phrase string
	// Rest is the text without the phrase and its marker, runs of blanks collapsed to one
	// space and trimmed: the instruction. Without a phrase it is the whole text, so collapsed.
	Rest string
	// Before and After are the text before the phrase's marker and after its suffix, as
	// written, so that a caller can tell a phrase that starts or ends the text from one in
	// the middle of a sentence; both empty without a phrase.
	Before, After string
	// OffDay reports that the deadline falls on a day off (24:00 counts as the day ending),
	// so the reply can warn about it.
	OffDay bool
}

// Error reports a deadline phrase that Find found but cannot use. Its message is Chinese and
// meant for the user as is.
type Error struct {
	// Phrase is the phrase as written.
	Phrase string
	// Past is set when the phrase was read but its time is not after now; otherwise the
	// phrase could not be read (13月5日, 下午25点).
	Past bool
	// Deadline is the time the phrase means, when Past.
	Deadline time.Time
}

// Error returns the reply: 截止时间已过：今天9点前（11月20日 09:00） or 无法识别的时间：13月5日前.
func (e *Error) Error() string {
	if e.Past {
		return "截止时间已过：" + e.Phrase + "（" + e.Deadline.Format("1月2日 15:04") + "）"
	}
	return "无法识别的时间：" + e.Phrase
}

// Find finds the deadline phrase in text and reads it as of now. Without a phrase it returns
// Found false and a nil error. With a phrase it cannot use it returns an *Error and a Result
// with Found, Phrase and Rest set.
func (p Parser) Find(text string, now time.Time) (Result, error) {
	m, ok := scan(text)
	if !ok {
		return Result{Rest: collapse(text, "")}, nil
	}
	res := Result{
		Found:  true,
		Phrase: text[m.core:m.end],
		Rest:   collapse(text[:m.start], text[m.end:]),
		Before: text[:m.start],
		After:  text[m.end:],
	}
	c := newContext(p, now)
	t, ok := c.resolve(&m)
	if !ok {
		return res, &Error{Phrase: res.Phrase}
	}
	if !t.After(c.now) {
		return res, &Error{Phrase: res.Phrase, Past: true, Deadline: t}
	}
	res.Deadline = t
	res.OffDay = !p.Cal.IsWorkday(t.Add(-time.Nanosecond))
	return res, nil
}

// match is one phrase found in a text.
type match struct {
	start, core, end int // byte offsets: marker, phrase, end including the suffix
	marked           bool
	span             *rule // a span; or a chain of the three below
	date             *rule
	aside            *rule // the same date in other words, in brackets
	period           *period
	clock            *rule
	spanV, dateV     vals
	asideV, clockV   vals
}

// scan finds the phrase Find reads: the first marked one, else the first one.
func scan(text string) (match, bool) {
	var first match
	found := false
	prev := rune(-1)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !leads.has(r) || continuesNumber(prev, r) {
			prev, i = r, i+size
			continue
		}
		m, skip, ok := matchAt(text, i)
		switch {
		case ok && m.marked:
			return m, true
		case ok && !found:
			first, found = m, true
		}
		if ok || skip > 0 {
			end := max(m.end, skip)
			prev, _ = utf8.DecodeLastRuneInString(text[:end])
			i = end
			continue
		}
		prev, i = r, i+size
	}
	return first, found
}

// continuesNumber reports whether r continues a number that prev belongs to: a match never
// starts inside 2024112700123, 二十二, 1.5 or 3:25.
func continuesNumber(prev, r rune) bool {
	switch {
	case prev < 0:
		return false
	case isDigitRune(r):
		return isDigitRune(prev) || strings.ContainsRune(".．:：", prev)
	case cnDigit(r) >= 0:
		return cnDigit(prev) >= 0
	}
	return false
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// matchAt matches a phrase starting at text[i:]. When a skip rule matches instead it returns
// the end of the skipped words.
func matchAt(text string, i int) (m match, skip int, ok bool) {
	m.start, m.core = i, i
	if n := markerAt(text, i); n > 0 {
		m.core, m.marked = i+n, true
	}
	end, skipEnd := m.core, -1
	// The longest span or skip, then a chain if it is longer; ties go to the earlier rule.
	for _, k := range [2]kind{kindSkip, kindSpan} {
		for _, r := range rulesAt(text, m.core, k) {
			var v vals
			if n := r.pat.match(text[m.core:], &v); n > 0 && m.core+n > end {
				end = m.core + n
				if k == kindSkip {
					m.span, skipEnd = nil, end
				} else {
					m.span, m.spanV, skipEnd = r, v, -1
				}
			}
		}
	}
	weak := m.span != nil && m.span.weak
	if e, w, ok := chainAt(text, m.core, &m); ok && e > end {
		end, weak, skipEnd, m.span = e, w, -1, nil
	} else {
		m.date, m.aside, m.period, m.clock = nil, nil, nil, nil
	}
	if skipEnd > 0 {
		return m, skipEnd, false
	}
	if end == m.core {
		return m, 0, false
	}
	m.end = end
	sfx := skipBlanks(text, end, 1)
	n, before := suffixAt(text, sfx)
	switch {
	case n > 0 && before && m.span != nil && m.span.notBefore:
		return m, 0, false // 下周前 is before next week, not within it
	case n > 0:
		m.end, m.marked = sfx+n, true
	case m.span != nil && m.span.marked:
		m.marked = true
	case startsWithAny(text[end:], notDeadline):
		return m, 0, false // 明天起, 本周以来
	}
	if m.date != nil && m.date.past && !m.marked {
		return m, m.end, false // 昨天下午的工单 mentions a day gone by
	}
	if weak && !m.marked {
		return m, 0, false
	}
	return m, 0, true
}

// chainAt matches a date, a part of the day and a clock time at text[i:], in that order, at
// least one of them; blanks may separate them. It reports the end and whether the chain is weak
// (a weak rule alone).
func chainAt(text string, i int, m *match) (end int, weak bool, ok bool) {
	end = i
	parts := 0
	if r, n, v := longest(text, end, kindDate); r != nil {
		m.date, m.dateV, m.period = r, v, r.period
		end, weak, parts = asideAt(text, end+n, m), r.weak, 1
	}
	if m.period == nil {
		if r, n, _ := longest(text, skipBlanks(text, end, parts), kindPeriod); r != nil {
			m.period = r.period
			end = skipBlanks(text, end, parts) + n
			weak, parts = r.weak, parts+1
		}
	}
	if m.period == nil || !m.period.noClock {
		if r, n, v := longest(text, skipBlanks(text, end, parts), kindClock); r != nil {
			m.clock, m.clockV = r, v
			end = skipBlanks(text, end, parts) + n
			weak, parts = r.weak, parts+1
		}
	}
	return end, weak && parts == 1, parts > 0
}

// asideAt matches a bracketed date at text[i:] that repeats the date before it in other words
// (11月27日（周五）) and returns the index after it, or i. Resolving checks that both agree.
func asideAt(text string, i int, m *match) int {
	for _, a := range asides {
		if !strings.HasPrefix(text[i:], a[0]) {
			continue
		}
		j := i + len(a[0])
		if r, n, v := longest(text, j, kindDate); r != nil && strings.HasPrefix(text[j+n:], a[1]) {
			m.aside, m.asideV = r, v
			return j + n + len(a[1])
		}
	}
	return i
}

// skipBlanks returns the index after the blanks at text[i:] when a part was matched before
// (parts > 0): blanks may separate the parts of a phrase, not precede it.
func skipBlanks(text string, i, parts int) int {
	if parts == 0 {
		return i
	}
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// longest returns the rule of kind k with the longest match at text[i:].
func longest(text string, i int, k kind) (*rule, int, vals) {
	var best *rule
	var bestV, v vals
	bestN := 0
	for _, r := range rulesAt(text, i, k) {
		v = vals{}
		if n := r.pat.match(text[i:], &v); n > bestN {
			best, bestN, bestV = r, n, v
		}
	}
	return best, bestN, bestV
}

// markerAt returns the length of a marker at text[i:] that introduces a phrase, or 0.
func markerAt(text string, i int) int {
	for _, mk := range markers {
		if !strings.HasPrefix(text[i:], mk.word) {
			continue
		}
		if mk.after != "" {
			prev, _ := utf8.DecodeLastRuneInString(text[:i])
			if i > 0 && !strings.ContainsRune(mk.after, prev) && !unicode.IsSpace(prev) && !unicode.IsPunct(prev) {
				continue
			}
		}
		return len(mk.word)
	}
	return 0
}

// suffixAt returns the length of a suffix at text[i:] and whether it means "before".
func suffixAt(text string, i int) (int, bool) {
	if startsWithAny(text[i:], notSuffix) {
		return 0, false
	}
	for _, s := range suffixes {
		if strings.HasPrefix(text[i:], s.word) {
			return len(s.word), s.before
		}
	}
	return 0, false
}

func startsWithAny(s string, words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// collapse returns a+b with every run of blanks turned into one space, trimmed. Bytes that are
// not valid UTF-8 are copied as they are, so the result is never longer than a+b.
func collapse(a, b string) string {
	if b == "" && !needsCollapse(a) {
		return a
	}
	var sb strings.Builder
	sb.Grow(len(a) + len(b))
	blank := false
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				blank = true
			} else {
				if blank && sb.Len() > 0 {
					sb.WriteByte(' ')
				}
				blank = false
				sb.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return sb.String()
}

// needsCollapse reports whether collapse would change s.
func needsCollapse(s string) bool {
	prevBlank := true // a leading blank needs trimming
	for _, r := range s {
		blank := unicode.IsSpace(r)
		if blank && (prevBlank || r != ' ') {
			return true
		}
		prevBlank = blank
	}
	return prevBlank && s != ""
}
