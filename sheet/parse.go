package sheet

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the layouts ParseTime tries on text normalised by
// normaliseTime; single-digit months, days, hours and minutes are accepted,
// and so are fractional seconds.
var timeLayouts = []string{
	"2006-1-2 15:4:5",
	"2006-1-2 15:4",
	"2006-1-2 15",
	"2006-1-2",
}

// Excel serial numbers: day 1 is 1900-01-01, and day 60 is the 1900-02-29
// that Lotus 1-2-3 invented and Excel kept; the largest is 9999-12-31.
const (
	excelLeapBugDay = 60
	excelMaxSerial  = 2958466
)

// ParseTime reads a date or date-time in the forms hotline exports use, as a
// wall-clock time in loc:
//
//	2026-11-20 09:30:00   2026-11-20 09:30   2026-11-20   2026-11-20T09:30:00
//	2026/11/20 9:30       2026.11.20         2026年11月20日 9时30分  2026年11月20日9点
//	20261120  202611200930  20261120093000
//	45981.395833 (an Excel serial number: days since 1899-12-30 and a day fraction)
//
// A text with its own zone (RFC 3339, 2026-11-20T09:30:00+08:00) keeps it.
// An empty text is an error; callers treat empty cells as absent first.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(foldWidth(s))
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(loc), nil
	}
	if allDigits(s) {
		switch len(s) {
		case 8:
			return time.ParseInLocation("20060102", s, loc)
		case 12:
			return time.ParseInLocation("200601021504", s, loc)
		case 14:
			return time.ParseInLocation("20060102150405", s, loc)
		}
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return excelSerial(v, loc)
	}
	n := normaliseTime(s)
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, n, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}

// excelSerial converts a serial number of the 1900 date system, rounded to the second.
func excelSerial(v float64, loc *time.Location) (time.Time, error) {
	if v < 1 || v >= excelMaxSerial || math.IsNaN(v) {
		return time.Time{}, fmt.Errorf("serial %v out of range", v)
	}
	days := math.Floor(v)
	secs := int(math.Round((v - days) * 86400))
	base := 30 // day 61 and later count from 1899-12-30
	if days < excelLeapBugDay {
		base = 31
	} else if days == excelLeapBugDay {
		return time.Time{}, errors.New("1900-02-29 does not exist")
	}
	return time.Date(1899, time.December, base+int(days), 0, 0, secs, 0, loc), nil
}

// normaliseTime rewrites Chinese and slashed forms to "2006-1-2 15:4:5".
var timeReplacer = strings.NewReplacer(
	"年", "-", "月", "-", "日", " ", "号", " ",
	"时", ":", "点", ":", "分", ":", "秒", "",
	"/", "-", ".", "-", "T", " ",
)

func normaliseTime(s string) string {
	s = timeReplacer.Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	// "9时30分" leaves "9:30:", "2026年11月20日" a trailing space.
	s = strings.TrimRight(s, ": ")
	// "2026-11-20 9:30:00.000" has become "…9:30:00-000": put the fraction back.
	if date, clock, ok := strings.Cut(s, " "); ok {
		if i := strings.LastIndexByte(clock, '-'); i > 0 {
			clock = clock[:i] + "." + clock[i+1:]
		}
		s = date + " " + clock
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// foldWidth turns full-width ASCII (Ｙ, ０-９, ：) into ASCII and the
// full-width space into a space.
func foldWidth(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\u3000' || (r >= 0xFF01 && r <= 0xFF5E) }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		}
		return r
	}, s)
}

// boolWords are the yes/no words of exports. Words not listed are judged by
// their first character: 已/有 yes, 未/不/非/无/没 no (已联系, 未解决, 不纳入).
var boolWords = map[string]bool{
	"是": true, "y": true, "yes": true, "true": true, "1": true, "√": true, "✓": true, "对": true,
	"有效": true, "纳入": true, "联系": true, "响应": true, "解决": true,
	"否": false, "n": false, "no": false, "false": false, "0": false, "×": false, "✗": false,
	"无效": false,
}

// ParseBool reads a yes/no cell: 是/否, Y/N, yes/no, true/false, 1/0, √/×,
// and words such as 已联系, 未解决, 有效, 不纳入. An empty cell is nil (unknown).
func ParseBool(s string) (*bool, error) {
	s = strings.ToLower(strings.TrimSpace(foldWidth(s)))
	if s == "" {
		return nil, nil
	}
	if v, ok := boolWords[s]; ok {
		return &v, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && (f == 0 || f == 1) {
		v := f == 1
		return &v, nil
	}
	switch r := []rune(s)[0]; r {
	case '已', '有':
		v := true
		return &v, nil
	case '未', '不', '非', '无', '没':
		v := false
		return &v, nil
	}
	return nil, fmt.Errorf("unrecognised yes/no %q", s)
}

// ParseInt reads a whole number such as 3, 3.0 (a number cell of xlsx), ３ or
// 3次. An empty cell is 0.
func ParseInt(s string) (int, error) {
	s = strings.TrimSpace(foldWidth(s))
	s = strings.TrimRight(s, "次个件条 ")
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not a whole number: %q", s)
	}
	return int(f), nil
}

// NumberText returns the digits of a number an xlsx file stores as a number
// (ticket numbers, mobile numbers): "2.026112000123E12" and "13800000001.0"
// become "2026112000123" and "13800000001". Anything else is returned trimmed.
func NumberText(s string) string {
	s = strings.TrimSpace(s)
	if allDigits(s) || !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// DateOnly reports whether a text that ParseTime reads gives no time of day:
// 2026-11-20, 2026年11月20日, 20261120 or a whole Excel serial number. A
// deadline written so means the end of the working day, not midnight.
func DateOnly(s string) bool {
	s = strings.TrimSpace(foldWidth(s))
	if allDigits(s) {
		return len(s) != 12 && len(s) != 14
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v == math.Trunc(v)
	}
	return !strings.Contains(normaliseTime(s), " ")
}
