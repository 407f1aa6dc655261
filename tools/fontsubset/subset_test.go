package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/golang/freetype/truetype"
	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// committed is the font package chart embeds, made by this command.
const committed = "../../chart/font/wqy-microhei-gb2312.ttf"

func TestCharsetIsGB2312(t *testing.T) {
	level1, level2 := gb2312Rows(16, 55), gb2312Rows(56, 87)
	if len(level1) != 3755 || len(level2) != 3008 {
		t.Fatalf("GB 2312 has 3755 level 1 and 3008 level 2 hanzi; got %d and %d", len(level1), len(level2))
	}
	for _, c := range []struct {
		list        []rune
		first, last rune
	}{{level1, '啊', '座'}, {level2, '亍', '齄'}} {
		if c.list[0] != c.first || c.list[len(c.list)-1] != c.last {
			t.Errorf("a level runs from %q to %q, want %q to %q", c.list[0], c.list[len(c.list)-1], c.first, c.last)
		}
		for _, r := range c.list {
			if !unicode.Is(unicode.Han, r) {
				t.Errorf("%q is not a hanzi", r)
			}
		}
	}
	set := map[rune]bool{}
	for _, r := range charset() {
		set[r] = true
	}
	for _, r := range "住建局12345热线办（）：、。，“”％№①Ⅻ—…·～A-z" {
		if !set[r] {
			t.Errorf("the charset lacks %q", r)
		}
	}
}

// TestSubsetKeepsGlyphsExactly subsets the committed font again to a few
// characters: every kept character has the same outline and advance as
// before, under both the renderer's parser and x/image's, and a character
// the font lacks is reported.
func TestSubsetKeepsGlyphsExactly(t *testing.T) {
	data, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	src, err := parseFont(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	const text = "高新区住建局 12345热线办（第3社区）：92.35%"
	out, missing, err := subset(src, []rune(text+"😀"))
	if err != nil {
		t.Fatal(err)
	}
	if string(missing) != "😀" {
		t.Errorf("missing %q, want the emoji", string(missing))
	}
	again, _, err := subset(src, []rune("😀"+text))
	if err != nil || !bytes.Equal(out, again) {
		t.Errorf("the same characters gave other bytes (%v)", err)
	}
	if len(out) > 20<<10 {
		t.Errorf("a font of %d characters is %d bytes", len([]rune(text)), len(out))
	}
	before, err := truetype.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	after, err := truetype.Parse(out)
	if err != nil {
		t.Fatalf("the renderer cannot read the subset: %v", err)
	}
	sf, err := sfnt.Parse(out)
	if err != nil {
		t.Fatalf("x/image cannot read the subset: %v", err)
	}
	var b sfnt.Buffer
	var g1, g2 truetype.GlyphBuf
	for _, r := range text {
		i1, i2 := before.Index(r), after.Index(r)
		if i1 == 0 || i2 == 0 {
			t.Fatalf("%q: glyph %d before, %d after", r, i1, i2)
		}
		if err := g1.Load(before, fixed.I(64), i1, xfont.HintingNone); err != nil {
			t.Fatal(err)
		}
		if err := g2.Load(after, fixed.I(64), i2, xfont.HintingNone); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g1.Points, g2.Points) || !reflect.DeepEqual(g1.Ends, g2.Ends) || g1.AdvanceWidth != g2.AdvanceWidth {
			t.Errorf("%q has another outline or advance in the subset", r)
		}
		if xi, err := sf.GlyphIndex(&b, r); err != nil || xi != sfnt.GlyphIndex(i2) {
			t.Errorf("%q: x/image finds glyph %d (%v), want %d", r, xi, err, i2)
		} else if _, err := sf.LoadGlyph(&b, xi, fixed.I(64), nil); err != nil {
			t.Errorf("%q: x/image cannot load the glyph: %v", r, err)
		}
	}
	if after.Index('宇') != 0 {
		t.Error("a character not asked for is in the subset")
	}
}

// TestGenerateRemakesTheCommittedFont runs the go:generate step of package
// chart into a temporary folder and compares the result with the committed
// font and note, byte for byte. It needs Debian's fonts-wqy-microhei; without
// it the test is skipped, except under CI, which installs it.
func TestGenerateRemakesTheCommittedFont(t *testing.T) {
	src, err := os.ReadFile("../../chart/font.go")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^//go:generate go run \.\./tools/fontsubset (.*)$`).FindSubmatch(src)
	if line == nil {
		t.Fatal("chart/font.go has no go:generate line for fontsubset")
	}
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`-(\w+) ("[^"]*"|\S+)`).FindAllStringSubmatch(string(line[1]), -1) {
		args[m[1]] = strings.Trim(m[2], `"`)
	}
	if _, err := os.Stat(args["in"]); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs %s (apt-get install fonts-wqy-microhei): %v", args["in"], err)
		}
		t.Skipf("%s is not installed (apt-get install fonts-wqy-microhei); the committed font cannot be remade here", args["in"])
	}
	dir := t.TempDir()
	out, note := filepath.Join(dir, "wqy-microhei-gb2312.ttf"), filepath.Join(dir, "wqy-microhei-gb2312.txt")
	if err := run(args["in"], 0, args["sha256"], args["source"], out, note); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{out, committed}, {note, strings.TrimSuffix(committed, ".ttf") + ".txt"}} {
		made, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(made, kept) {
			t.Errorf("go generate ./chart makes another %s than the committed one: run it and commit the result", filepath.Base(pair[1]))
		}
	}
	if err := run(args["in"], 0, strings.Repeat("0", 64), "", out, note); err == nil || !strings.Contains(err.Error(), "another version") {
		t.Errorf("an input with another hash: %v", err)
	}
}
