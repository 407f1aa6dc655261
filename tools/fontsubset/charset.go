package main

import (
	"unicode"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// GB 2312 is a 94 × 94 table: row r, cell c is the EUC-CN code
// (0xA0+r, 0xA0+c). Rows 16–55 hold level 1 hanzi (3755), rows 56–87
// level 2 (3008); row 1 is punctuation and symbols, row 2 numbered
// forms (①, ⑴, Ⅰ), row 3 the full-width forms of ASCII.

// gb2312Rows returns the characters of GB 2312 rows from to to (1-based,
// inclusive), decoded through GBK, whose table agrees with GB 2312's on them.
func gb2312Rows(from, to int) []rune {
	dec := simplifiedchinese.GBK.NewDecoder()
	var out []rune
	for row := from; row <= to; row++ {
		for cell := 1; cell <= 94; cell++ {
			b, err := dec.Bytes([]byte{byte(0xA0 + row), byte(0xA0 + cell)})
			if err != nil {
				continue
			}
			r := []rune(string(b))
			if len(r) != 1 || r[0] == unicode.ReplacementChar || unicode.Is(unicode.Co, r[0]) {
				continue // a cell GB 2312 leaves empty
			}
			if row >= 16 && !unicode.Is(unicode.Han, r[0]) {
				continue // GBK's additions in the empty cells of row 55
			}
			out = append(out, r[0])
		}
	}
	return out
}

// extras are characters the product writes that GB 2312's rows 1–3 spell
// differently (GBK maps its dash and middle dot to other code points than
// some text uses) or lack.
const extras = "\u2013\u2014\u2015\u00b7\u30fb\u2026\u2018\u2019\u201c\u201d\u3000\u00d7\u2212\u25cf\u25a0\u2191\u2193"

// charset returns the characters the chart font keeps: ASCII's printable
// characters, GB 2312 rows 1–3 (punctuation, numbered forms, full-width
// forms), both levels of hanzi, and extras.
func charset() []rune {
	var out []rune
	for c := rune(0x20); c < 0x7F; c++ {
		out = append(out, c)
	}
	out = append(out, gb2312Rows(1, 3)...)
	out = append(out, gb2312Rows(16, 87)...)
	return append(out, []rune(extras)...)
}
