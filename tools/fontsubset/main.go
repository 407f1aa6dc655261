// Command fontsubset makes the CJK font that package chart embeds: it keeps,
// of a TrueType font (or one face of a collection), the glyphs of GB 2312's
// two levels of hanzi, its punctuation, numbered and full-width rows, ASCII
// and a few extras, and writes a small TrueType file with a note of what it
// was made from. `go generate ./chart` runs it on Debian's fonts-wqy-microhei:
//
//	go run ./tools/fontsubset -in /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
//	    -sha256 <hash of that file> -source "Debian fonts-wqy-microhei 0.2.0-beta-3.1" \
//	    -out chart/font/wqy-microhei-gb2312.ttf
//
// It refuses an input whose SHA-256 is not the one given, so that the same
// command always writes the same bytes, and fails when the font lacks any
// character of the set.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	in := flag.String("in", "", "TrueType font or collection to subset")
	index := flag.Int("index", 0, "face of a collection")
	want := flag.String("sha256", "", "SHA-256 the input must have (hex)")
	out := flag.String("out", "", "subset font to write")
	source := flag.String("source", "", "where the input comes from, for the note (a Debian package and version)")
	note := flag.String("note", "", "text file to write beside the font: source, hashes, counts (default: -out with .txt)")
	flag.Parse()
	if *in == "" || *out == "" || *want == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *note == "" {
		*note = strings.TrimSuffix(*out, ".ttf") + ".txt"
	}
	if err := run(*in, *index, *want, *source, *out, *note); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in string, index int, want, source, out, note string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("fontsubset: %w (install the Debian package that has it)", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("fontsubset: %s has SHA-256 %s, not %s: another version of the font; check its licence and update the hash", in, got, want)
	}
	f, err := parseFont(data, index)
	if err != nil {
		return err
	}
	chars := charset()
	subsetted, missing, err := subset(f, chars)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("fontsubset: the font lacks %d characters: %q", len(missing), string(missing))
	}
	if err := os.WriteFile(out, subsetted, 0o644); err != nil {
		return err
	}
	outSum := sha256.Sum256(subsetted)
	text := fmt.Sprintf(`%s: made by tools/fontsubset (go generate ./chart); do not edit.
Source: %s: %s, face %d (SHA-256 %s)
Characters: %d (ASCII, GB 2312 rows 1-3, GB 2312 hanzi levels 1 and 2, extras)
Glyphs: %d
SHA-256: %s
`, baseName(out), source, in, index, want, distinct(chars), int(be16(subsetted[tableOffset(subsetted, "maxp"):], 4)), hex.EncodeToString(outSum[:]))
	return os.WriteFile(note, []byte(text), 0o644)
}

// tableOffset returns where a table starts in an assembled font.
func tableOffset(ttf []byte, tag string) int {
	n := int(be16(ttf, 4))
	for i := range n {
		if rec := ttf[12+16*i:]; string(rec[:4]) == tag {
			return int(be32(rec, 8))
		}
	}
	return 0
}

// distinct counts the different characters of chars.
func distinct(chars []rune) int {
	seen := map[rune]bool{}
	for _, c := range chars {
		seen[c] = true
	}
	return len(seen)
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
