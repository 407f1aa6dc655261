package chart

import (
	_ "embed"
	"fmt"
	"sync"
	"unicode"

	"github.com/golang/freetype/truetype"
)

// The chart font is WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 or GPL-3+
// with the font exception; font/LICENSE-Apache-2.0 and
// font/COPYRIGHT.debian) cut down to what the product writes: GB 2312's
// hanzi of both levels, its punctuation, numbered and full-width rows, and
// ASCII. font/wqy-microhei-gb2312.txt records the source and the hashes; the
// step below remakes the file byte for byte from Debian's fonts-wqy-microhei.
//
//go:generate go run ../tools/fontsubset -in /usr/share/fonts/truetype/wqy/wqy-microhei.ttc -sha256 2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3 -source "Debian fonts-wqy-microhei 0.2.0-beta-3.1" -out font/wqy-microhei-gb2312.ttf

//go:embed font/wqy-microhei-gb2312.ttf
var fontData []byte

var loadFont = sync.OnceValues(func() (*truetype.Font, error) {
	f, err := truetype.Parse(fontData)
	if err != nil {
		return nil, fmt.Errorf("chart: parse the embedded font: %w", err)
	}
	return f, nil
})

// missingIn appends to seen the characters of s that f lacks and seen does
// not hold yet.
func missingIn(f *truetype.Font, s string, seen []rune) []rune {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || f.Index(r) != 0 {
			continue
		}
		known := false
		for _, m := range seen {
			if m == r {
				known = true
				break
			}
		}
		if !known {
			seen = append(seen, r)
		}
	}
	return seen
}
