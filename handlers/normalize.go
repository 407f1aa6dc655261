package handlers

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalized is a message prepared for parsing: full-width forms folded to
// half-width, zero-width characters dropped, every run of blanks (line breaks
// included) collapsed to one space, trimmed, and the leading @bot mention
// removed. It keeps the way back to the sender's own writing: off[i] is the
// byte offset in orig of text[i], and off[len(text)] is len(orig).
type normalized struct {
	text string
	orig string
	off  []int
}

// normalize prepares orig for parsing; mention is the robot's @-mention
// (Grammar.mention), dropped from the start if the transport has not done so
// already. With anyMention (a message posted in a group) every @-mention at
// the start is dropped, up to the blank that ends it: WeCom starts a group
// message with the mention of the robot or AI bot it was sent to, whatever
// that bot is called.
func normalize(orig, mention string, anyMention bool) normalized {
	var b strings.Builder
	b.Grow(len(orig))
	off := make([]int, 0, len(orig)+1)
	blankAt := -1 // offset in orig of a pending run of blanks
	for i := 0; i < len(orig); {
		r, size := utf8.DecodeRuneInString(orig[i:])
		r = fold(r)
		switch {
		case isZeroWidth(r):
		case unicode.IsSpace(r):
			if blankAt < 0 {
				blankAt = i
			}
		default:
			if blankAt >= 0 && b.Len() > 0 {
				b.WriteByte(' ')
				off = append(off, blankAt)
			}
			blankAt = -1
			n, _ := b.WriteRune(r)
			for range n {
				off = append(off, i)
			}
		}
		i += size
	}
	off = append(off, len(orig))
	n := normalized{text: b.String(), orig: orig, off: off}
	for {
		switch {
		case mention != "" && strings.HasPrefix(n.text, mention):
			n = n.from(len(mention))
		case anyMention && strings.HasPrefix(n.text, "@"):
			end := strings.IndexByte(n.text, ' ')
			if end < 0 {
				end = len(n.text)
			}
			n = n.from(end)
		default:
			return n
		}
	}
}

// from returns n without its first i bytes and the blank after them.
func (n normalized) from(i int) normalized {
	if i < len(n.text) && n.text[i] == ' ' {
		i++
	}
	return normalized{text: n.text[i:], orig: n.orig, off: n.off[i:]}
}

// original returns the sender's own writing from text offset i to the end,
// trimmed of blanks and of leading separators (colons, commas).
func (n normalized) original(i int) string {
	s := strings.TrimSpace(n.orig[n.off[i]:])
	return strings.TrimSpace(strings.TrimLeft(s, ":：,，、 "))
}

// fold maps a full-width letter, digit or punctuation mark (U+FF01–U+FF5E) to
// its ASCII form and the ideographic space to a space.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// foldString applies fold to every rune of s.
func foldString(s string) string {
	return strings.Map(func(r rune) rune {
		if r = fold(r); isZeroWidth(r) {
			return -1
		}
		return r
	}, s)
}

// isZeroWidth reports the invisible characters chat clients slip into text.
func isZeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF:
		return true
	}
	return false
}

// isSep reports a separator between arguments: a blank, a colon or a comma,
// Chinese or English.
func isSep(r rune) bool {
	switch r {
	case ' ', ':', ',', '、', '：', '，', ';', '；':
		return true
	}
	return unicode.IsSpace(r)
}

// skipSeps returns the index in s after the separators at s[i:].
func skipSeps(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSep(r) {
			break
		}
		i += size
	}
	return i
}

// isWordByte reports an ASCII letter or digit: a command word written in
// ASCII (help) must end at a byte that is not one.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
