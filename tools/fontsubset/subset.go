package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// A TrueType subsetter: it keeps the glyphs of a set of characters (and the
// components they are built of), renumbers them in character order, strips
// their hinting instructions and writes a font with the tables a renderer
// needs: cmap (one format 4 subtable), glyf, loca (long), hmtx, hhea, head,
// maxp, OS/2, name and post (version 3, no glyph names). Layout tables
// (GSUB, GPOS, kern), hinting programs and bitmaps are left out. The same
// input and characters always give the same bytes.

// font is a parsed sfnt: its tables by tag.
type font struct {
	tables map[string][]byte
}

// parseFont reads the font at index of a TrueType collection, or the font
// of a plain TrueType file (index 0).
func parseFont(data []byte, index int) (*font, error) {
	if len(data) < 12 {
		return nil, errors.New("fontsubset: file too short")
	}
	offset := 0
	if string(data[:4]) == "ttcf" {
		n := int(be32(data, 8))
		if index < 0 || index >= n || len(data) < 12+4*n {
			return nil, fmt.Errorf("fontsubset: collection has %d fonts, not %d", n, index+1)
		}
		offset = int(be32(data, 12+4*index))
	} else if index != 0 {
		return nil, errors.New("fontsubset: not a collection: index must be 0")
	}
	if offset+12 > len(data) || be32(data, offset) != 0x00010000 {
		return nil, errors.New("fontsubset: not a TrueType font with glyf outlines")
	}
	n := int(be16(data, offset+4))
	if offset+12+16*n > len(data) {
		return nil, errors.New("fontsubset: table directory is cut")
	}
	f := &font{tables: map[string][]byte{}}
	for i := range n {
		rec := data[offset+12+16*i:]
		start, length := int(be32(rec, 8)), int(be32(rec, 12))
		if start < 0 || length < 0 || start+length > len(data) {
			return nil, fmt.Errorf("fontsubset: table %q lies outside the file", rec[:4])
		}
		f.tables[string(rec[:4])] = data[start : start+length]
	}
	for _, tag := range []string{"cmap", "glyf", "loca", "head", "hhea", "hmtx", "maxp"} {
		if f.tables[tag] == nil {
			return nil, fmt.Errorf("fontsubset: table %q is missing", tag)
		}
	}
	return f, nil
}

// numGlyphs is maxp.numGlyphs.
func (f *font) numGlyphs() int { return int(be16(f.tables["maxp"], 4)) }

// glyph returns the outline data of glyph id, as glyf holds it (possibly empty).
func (f *font) glyph(id int) ([]byte, error) {
	if id < 0 || id >= f.numGlyphs() {
		return nil, fmt.Errorf("fontsubset: glyph %d out of range", id)
	}
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var start, end int
	if int16(be16(f.tables["head"], 50)) == 0 {
		if len(loca) < 2*id+4 {
			return nil, errors.New("fontsubset: loca is cut")
		}
		start, end = 2*int(be16(loca, 2*id)), 2*int(be16(loca, 2*id+2))
	} else {
		if len(loca) < 4*id+8 {
			return nil, errors.New("fontsubset: loca is cut")
		}
		start, end = int(be32(loca, 4*id)), int(be32(loca, 4*id+4))
	}
	if start > end || end > len(glyf) {
		return nil, fmt.Errorf("fontsubset: glyph %d lies outside glyf", id)
	}
	return glyf[start:end], nil
}

// metric returns the advance width and left side bearing of glyph id.
func (f *font) metric(id int) (uint16, int16) {
	hmtx := f.tables["hmtx"]
	n := int(be16(f.tables["hhea"], 34))
	if id < n {
		return be16(hmtx, 4*id), int16(be16(hmtx, 4*id+2))
	}
	return be16(hmtx, 4*(n-1)), int16(be16(hmtx, 4*n+2*(id-n)))
}

// cmap returns the font's Unicode character map: the best of its Windows
// Unicode (3,10 or 3,1) and Unicode (0,*) subtables in format 4 or 12.
func (f *font) cmap() (map[rune]int, error) {
	t := f.tables["cmap"]
	n := int(be16(t, 2))
	best, bestRank := -1, 0
	for i := range n {
		rec := t[4+8*i:]
		pid, eid, off := be16(rec, 0), be16(rec, 2), int(be32(rec, 4))
		rank := 0
		switch {
		case pid == 3 && eid == 10, pid == 0 && eid == 4:
			rank = 3
		case pid == 3 && eid == 1, pid == 0:
			rank = 2
		}
		if format := be16(t, off); rank > bestRank && (format == 4 || format == 12) {
			best, bestRank = off, rank
		}
	}
	if best < 0 {
		return nil, errors.New("fontsubset: no Unicode cmap in format 4 or 12")
	}
	out := map[rune]int{}
	sub := t[best:]
	switch be16(sub, 0) {
	case 4:
		segs := int(be16(sub, 6)) / 2
		ends, starts, deltas, ranges := 14, 16+2*segs, 16+4*segs, 16+6*segs
		for s := range segs {
			end, start := int(be16(sub, ends+2*s)), int(be16(sub, starts+2*s))
			delta, ro := int(be16(sub, deltas+2*s)), int(be16(sub, ranges+2*s))
			for c := start; c <= end && c != 0xFFFF; c++ {
				g := 0
				if ro == 0 {
					g = (c + delta) & 0xFFFF
				} else if at := ranges + 2*s + ro + 2*(c-start); at+2 <= len(sub) {
					if g = int(be16(sub, at)); g != 0 {
						g = (g + delta) & 0xFFFF
					}
				}
				if g != 0 {
					out[rune(c)] = g
				}
			}
		}
	case 12:
		groups := int(be32(sub, 12))
		for i := range groups {
			g := sub[16+12*i:]
			start, end, gid := int(be32(g, 0)), int(be32(g, 4)), int(be32(g, 8))
			for c := start; c <= end; c++ {
				out[rune(c)] = gid + c - start
			}
		}
	}
	return out, nil
}

// Composite glyph flags (glyf).
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	haveTwoByTwo   = 0x0080
	haveInstr      = 0x0100
)

// components returns, for a composite glyph, the offsets of its component
// glyph indices in data and the length of the component records (where the
// instructions start); ok is false for a simple or empty glyph.
func components(data []byte) (at []int, end int, ok bool, err error) {
	if len(data) < 10 || int16(be16(data, 0)) >= 0 {
		return nil, 0, false, nil
	}
	i := 10
	for {
		if i+4 > len(data) {
			return nil, 0, true, errors.New("fontsubset: composite glyph is cut")
		}
		flags := be16(data, i)
		at = append(at, i+2)
		i += 4
		if flags&argsAreWords != 0 {
			i += 4
		} else {
			i += 2
		}
		switch {
		case flags&haveScale != 0:
			i += 2
		case flags&haveXYScale != 0:
			i += 4
		case flags&haveTwoByTwo != 0:
			i += 8
		}
		if flags&moreComponents == 0 {
			if i > len(data) {
				return nil, 0, true, errors.New("fontsubset: composite glyph is cut")
			}
			return at, i, true, nil
		}
	}
}

// stripped returns glyph data without hinting instructions, remapping a
// composite's components through newID.
func stripped(data []byte, newID map[int]int) ([]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	at, end, composite, err := components(data)
	if err != nil {
		return nil, err
	}
	if composite {
		out := slices.Clone(data[:end])
		for _, a := range at {
			binary.BigEndian.PutUint16(out[a:], uint16(newID[int(be16(out, a))]))
		}
		// The last component's flags lose WE_HAVE_INSTRUCTIONS.
		last := at[len(at)-1] - 2
		binary.BigEndian.PutUint16(out[last:], be16(out, last)&^haveInstr)
		return out, nil
	}
	n := int(be16(data, 0))
	at0 := 10 + 2*n // instructionLength
	if at0+2 > len(data) {
		return nil, errors.New("fontsubset: simple glyph is cut")
	}
	skip := int(be16(data, at0))
	if at0+2+skip > len(data) {
		return nil, errors.New("fontsubset: simple glyph is cut")
	}
	out := make([]byte, 0, len(data)-skip)
	out = append(out, data[:at0]...)
	out = append(out, 0, 0)
	return append(out, data[at0+2+skip:]...), nil
}

// subset returns a font with the glyphs of chars that f has, and the
// characters it lacks.
func subset(f *font, chars []rune) ([]byte, []rune, error) {
	cmap, err := f.cmap()
	if err != nil {
		return nil, nil, err
	}
	chars = slices.Clone(chars)
	slices.Sort(chars)
	chars = slices.Compact(chars)
	// New glyph IDs: .notdef, then the glyphs of the characters in
	// character order, then the components they need.
	order := []int{0}
	newID := map[int]int{0: 0}
	add := func(g int) {
		if _, ok := newID[g]; !ok {
			newID[g] = len(order)
			order = append(order, g)
		}
	}
	var mapped []rune
	var missing []rune
	for _, c := range chars {
		if g, ok := cmap[c]; ok && g < f.numGlyphs() {
			add(g)
			mapped = append(mapped, c)
		} else {
			missing = append(missing, c)
		}
	}
	for i := 0; i < len(order); i++ {
		data, err := f.glyph(order[i])
		if err != nil {
			return nil, nil, err
		}
		at, _, _, err := components(data)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range at {
			add(int(be16(data, a)))
		}
	}
	tables := map[string][]byte{}
	if tables["glyf"], tables["loca"], err = glyfLoca(f, order, newID); err != nil {
		return nil, nil, err
	}
	hmtx, nHM := hmtxOf(f, order)
	tables["hmtx"] = hmtx
	tables["hhea"] = withU16(f.tables["hhea"], 34, uint16(nHM))
	tables["maxp"] = withU16(f.tables["maxp"], 4, uint16(len(order)))
	head := withU16(f.tables["head"], 50, 1) // long loca
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	tables["head"] = head
	if tables["cmap"], err = cmapOf(mapped, cmap, newID); err != nil {
		return nil, nil, err
	}
	if post := f.tables["post"]; len(post) >= 32 {
		p := slices.Clone(post[:32])
		binary.BigEndian.PutUint32(p, 0x00030000)
		tables["post"] = p
	}
	for _, tag := range []string{"OS/2", "name"} {
		if t := f.tables[tag]; t != nil {
			tables[tag] = slices.Clone(t)
		}
	}
	return assemble(tables), missing, nil
}

// glyfLoca builds glyf and a long loca of the glyphs in order.
func glyfLoca(f *font, order []int, newID map[int]int) (glyf, loca []byte, err error) {
	loca = make([]byte, 4*(len(order)+1))
	for i, old := range order {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		data, err := f.glyph(old)
		if err != nil {
			return nil, nil, err
		}
		if data, err = stripped(data, newID); err != nil {
			return nil, nil, fmt.Errorf("glyph %d: %w", old, err)
		}
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	binary.BigEndian.PutUint32(loca[4*len(order):], uint32(len(glyf)))
	return glyf, loca, nil
}

// hmtxOf builds hmtx for the glyphs in order, with the trailing run of equal
// advances written once, and returns it with numberOfHMetrics.
func hmtxOf(f *font, order []int) ([]byte, int) {
	n := len(order)
	adv := make([]uint16, n)
	lsb := make([]int16, n)
	for i, old := range order {
		adv[i], lsb[i] = f.metric(old)
	}
	nHM := n
	for nHM > 1 && adv[nHM-1] == adv[nHM-2] {
		nHM--
	}
	out := make([]byte, 0, 4*nHM+2*(n-nHM))
	for i := range n {
		if i < nHM {
			out = binary.BigEndian.AppendUint16(out, adv[i])
		}
		out = binary.BigEndian.AppendUint16(out, uint16(lsb[i]))
	}
	return out, nHM
}

// cmapOf builds a cmap with one Windows Unicode BMP subtable in format 4: a
// segment for each run of characters whose glyph IDs run along with them.
func cmapOf(chars []rune, cmap map[rune]int, newID map[int]int) ([]byte, error) {
	type seg struct{ start, end, delta int }
	var segs []seg
	for _, c := range chars {
		if c > 0xFFFE {
			return nil, fmt.Errorf("fontsubset: U+%04X is outside the BMP", c)
		}
		g := newID[cmap[c]]
		if n := len(segs); n > 0 && segs[n-1].end == int(c)-1 && segs[n-1].delta == g-int(c) {
			segs[n-1].end = int(c)
			continue
		}
		segs = append(segs, seg{int(c), int(c), g - int(c)})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1}) // the required last segment
	n := len(segs)
	length := 16 + 8*n
	if length > 0xFFFF {
		return nil, errors.New("fontsubset: too many cmap segments for format 4")
	}
	sub := make([]byte, 0, length)
	searchRange, entrySelector := 1, 0
	for searchRange*2 <= n {
		searchRange *= 2
		entrySelector++
	}
	for _, v := range []int{4, length, 0, 2 * n, 2 * searchRange, entrySelector, 2*n - 2*searchRange} {
		sub = binary.BigEndian.AppendUint16(sub, uint16(v))
	}
	for _, s := range segs {
		sub = binary.BigEndian.AppendUint16(sub, uint16(s.end))
	}
	sub = binary.BigEndian.AppendUint16(sub, 0) // reservedPad
	for _, s := range segs {
		sub = binary.BigEndian.AppendUint16(sub, uint16(s.start))
	}
	for _, s := range segs {
		sub = binary.BigEndian.AppendUint16(sub, uint16(s.delta))
	}
	for range segs {
		sub = binary.BigEndian.AppendUint16(sub, 0) // idRangeOffset: deltas only
	}
	out := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12} // version 0, 1 subtable: (3, 1) at 12
	return append(out, sub...), nil
}

// assemble writes the tables as a TrueType file: sorted directory, tables
// 4-byte aligned, checksums and head.checkSumAdjustment set.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	searchRange, entrySelector := 1, 0
	for searchRange*2 <= n {
		searchRange *= 2
		entrySelector++
	}
	out := binary.BigEndian.AppendUint32(nil, 0x00010000)
	for _, v := range []int{n, 16 * searchRange, entrySelector, 16*n - 16*searchRange} {
		out = binary.BigEndian.AppendUint16(out, uint16(v))
	}
	offset := 12 + 16*n
	headAt := 0
	for _, tag := range tags {
		t := tables[tag]
		if tag == "head" {
			headAt = offset
		}
		out = append(out, tag...)
		out = binary.BigEndian.AppendUint32(out, checksum(t))
		out = binary.BigEndian.AppendUint32(out, uint32(offset))
		out = binary.BigEndian.AppendUint32(out, uint32(len(t)))
		offset += (len(t) + 3) &^ 3
	}
	for _, tag := range tags {
		out = append(out, tables[tag]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}

// checksum is the sfnt table checksum: the sum of big-endian uint32s, the
// last one zero-padded.
func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// withU16 returns a copy of t with the uint16 at off set to v.
func withU16(t []byte, off int, v uint16) []byte {
	out := slices.Clone(t)
	binary.BigEndian.PutUint16(out[off:], v)
	return out
}

func be16(b []byte, i int) uint16 { return binary.BigEndian.Uint16(b[i:]) }
func be32(b []byte, i int) uint32 { return binary.BigEndian.Uint32(b[i:]) }
