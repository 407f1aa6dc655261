package timephrase

import (
	"strings"
	"unicode/utf8"
)

// altSep separates the alternatives of a group in a rule: (之内|内).
const altSep = '|'

// A pattern is a compiled rule text. The rule language is deliberately tiny:
//
//	text        literal text
//	(a|b|c)     one of the alternatives, the longest that matches; (…)? may be absent
//	{n}         a number: 1–4 Arabic digits or Chinese numerals (三, 十二, 二十五, 两, 二〇二六)
//	{d}         1–2 Arabic digits
//	{y}         exactly 4 Arabic digits
//	{mm}        exactly 2 Arabic digits
//	{w}         a day of the week: 一 … 六, 日 or 天 (7), or 1 … 7
//
// Arabic digits may be ASCII or full-width. Slots store their values in order. Matching is
// greedy and never backtracks, so rules are written to need none.
type pattern []token

type tokKind uint8

const (
	tokLit tokKind = iota
	tokNum
	tokDigits
	tokYear
	tokMinute
	tokWeekday
)

type token struct {
	kind tokKind
	alts []string // tokLit: the alternatives, longest first
	opt  bool
}

// slots names the slot kinds of the rule language.
var slots = map[string]tokKind{"n": tokNum, "d": tokDigits, "y": tokYear, "mm": tokMinute, "w": tokWeekday}

// compile compiles a rule text; it panics on a malformed one (rules are package constants).
func compile(src string) pattern {
	var p pattern
	for s := src; s != ""; {
		switch s[0] {
		case '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				panic("timephrase: unclosed slot in rule " + src)
			}
			k, ok := slots[s[1:end]]
			if !ok {
				panic("timephrase: unknown slot in rule " + src)
			}
			p = append(p, token{kind: k})
			s = s[end+1:]
			if p.slots() > len(vals{}.v) {
				panic("timephrase: too many slots in rule " + src)
			}
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				panic("timephrase: unclosed group in rule " + src)
			}
			alts := strings.Split(s[1:end], string(altSep))
			// Longest first, so that 之内 is preferred to 内 and 个星期 to 周.
			for i := 1; i < len(alts); i++ {
				for j := i; j > 0 && len(alts[j]) > len(alts[j-1]); j-- {
					alts[j], alts[j-1] = alts[j-1], alts[j]
				}
			}
			t := token{kind: tokLit, alts: alts}
			s = s[end+1:]
			if strings.HasPrefix(s, "?") {
				t.opt, s = true, s[1:]
			}
			p = append(p, t)
		default:
			end := strings.IndexAny(s, "{(")
			if end < 0 {
				end = len(s)
			}
			p = append(p, token{kind: tokLit, alts: []string{s[:end]}})
			s = s[end:]
		}
	}
	return p
}

// slots returns the number of slots in p.
func (p pattern) slots() int {
	n := 0
	for _, t := range p {
		if t.kind != tokLit {
			n++
		}
	}
	return n
}

// vals holds the slot values of one match.
type vals struct {
	v [3]int
	n int
}

// match matches p at the start of s and returns the number of bytes used, or -1.
func (p pattern) match(s string, v *vals) int {
	i := 0
	for _, t := range p {
		n := -1
		if t.kind == tokLit {
			for _, a := range t.alts {
				if strings.HasPrefix(s[i:], a) {
					n = len(a)
					break
				}
			}
		} else {
			var x int
			if x, n = readSlot(t.kind, s[i:]); n >= 0 {
				v.v[v.n], v.n = x, v.n+1
			}
		}
		switch {
		case n >= 0:
			i += n
		case !t.opt:
			return -1
		}
	}
	return i
}

// leads returns the runes a match of p can start with.
func (p pattern) leads() []rune {
	var rs []rune
	for _, t := range p {
		switch t.kind {
		case tokLit:
			for _, a := range t.alts {
				r, _ := utf8.DecodeRuneInString(a)
				rs = append(rs, r)
			}
		case tokNum:
			rs = append(rs, []rune(arabic+chinese)...)
		default: // the other slots start with Arabic digits ({w} never starts a rule)
			rs = append(rs, []rune(arabic)...)
		}
		if !t.opt {
			return rs
		}
	}
	return rs
}

const (
	arabic  = "0123456789０１２３４５６７８９"
	chinese = "零〇一二两三四五六七八九十百"
)

// digit returns the value of an ASCII or full-width digit at the start of s and its size.
func digit(s string) (int, int) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		return int(s[0] - '0'), 1
	}
	r, size := utf8.DecodeRuneInString(s)
	if r >= '０' && r <= '９' {
		return int(r - '０'), size
	}
	return -1, 0
}

// cnDigit returns the value of a Chinese numeral rune: 0–9 for digits, 10 and 100 for the
// units 十 and 百, -1 for anything else.
func cnDigit(r rune) int {
	switch r {
	case '零', '〇':
		return 0
	case '一':
		return 1
	case '二', '两':
		return 2
	case '三':
		return 3
	case '四':
		return 4
	case '五':
		return 5
	case '六':
		return 6
	case '七':
		return 7
	case '八':
		return 8
	case '九':
		return 9
	case '十':
		return 10
	case '百':
		return 100
	}
	return -1
}

// isDigit reports whether s starts with an Arabic digit.
func isDigit(s string) bool {
	d, _ := digit(s)
	return d >= 0
}

// readDigits reads min to max Arabic digits; more digits following make it fail.
func readDigits(s string, min, max int) (int, int) {
	x, i, k := 0, 0, 0
	for ; k < max; k++ {
		d, size := digit(s[i:])
		if d < 0 {
			break
		}
		x, i = x*10+d, i+size
	}
	if k < min || isDigit(s[i:]) {
		return 0, -1
	}
	return x, i
}

// readChinese reads a number in Chinese numerals: either digits (二〇二六) or a number with the
// units 十 and 百 (十二, 二十五, 一百零五, 两百). It fails on malformed ones (十十, 二三十).
func readChinese(s string) (int, int) {
	total, cur, lastUnit, i, k := 0, -1, 1000, 0, 0
	digitsOnly, digits := true, 0 // digits: the value while no unit has been seen
	for i < len(s) && k < 8 {
		r, size := utf8.DecodeRuneInString(s[i:])
		d := cnDigit(r)
		if d < 0 {
			break
		}
		switch {
		case d >= 10: // a unit: it multiplies the pending digit (十 alone is 10)
			if d >= lastUnit || digitsOnly && k > 1 {
				return 0, -1
			}
			if cur < 0 {
				cur = 1
			}
			total += cur * d
			cur, lastUnit, digitsOnly = -1, d, false
		case d == 0 && !digitsOnly:
			// 零 inside a number with units is only a placeholder (一百零五).
		default:
			if cur >= 0 && !digitsOnly {
				return 0, -1
			}
			if digitsOnly {
				digits = digits*10 + d
			}
			cur = d
		}
		i, k = i+size, k+1
	}
	switch {
	case k == 0:
		return 0, -1
	case digitsOnly:
		if k > 4 {
			return 0, -1
		}
		return digits, i
	case cur > 0:
		total += cur
	}
	return total, i
}

// readSlot reads one slot value at the start of s and returns it with its size, or size -1.
func readSlot(k tokKind, s string) (int, int) {
	switch k {
	case tokNum:
		if isDigit(s) {
			return readDigits(s, 1, 4)
		}
		return readChinese(s)
	case tokDigits:
		return readDigits(s, 1, 2)
	case tokYear:
		return readDigits(s, 4, 4)
	case tokMinute:
		return readDigits(s, 2, 2)
	}
	// tokWeekday
	if d, size := digit(s); d >= 1 && d <= 7 && !isDigit(s[size:]) {
		return d, size
	}
	r, size := utf8.DecodeRuneInString(s)
	switch d := cnDigit(r); {
	case d >= 1 && d <= 6:
		return d, size
	case r == '日' || r == '天':
		return 7, size
	}
	return 0, -1
}
