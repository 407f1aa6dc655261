package sheet

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// cutMark is the element xmlGuard puts where it cut a text: no spreadsheet
// part has it, and the readers take it to mean "this cell is too long".
const cutMark = "yanzhen-cut"

// maxEntity is how far past the limit a cut may wait for an entity (&amp;)
// or a character to end, so that the text stays well-formed.
const maxEntity = 16

// xmlGuard passes an XML stream through with every text run (the bytes
// between two tags) cut to about limit bytes, and fails on a tag longer than
// limit, so that an xml.Decoder reading it never holds more than that in one
// token: a 600 MB cell in a 600 KB zip costs a pass over its bytes, not 600 MB.
type xmlGuard struct {
	r     io.Reader
	limit int

	chunk []byte // what was read from r
	buf   []byte // the part of chunk not yet passed on
	mark  []byte // the rest of a cut mark to pass on
	err   error  // r's error, returned once buf is empty

	inTag    bool
	noQuotes bool // in <!…> or <?…>, where quotes mean nothing
	quote    byte // the quote an attribute value in a tag started with, or 0
	run      int  // bytes of the current text or tag
	entity   bool // inside &…; in a text
	skip     bool // dropping a text's bytes until the next tag
}

func newXMLGuard(r io.Reader, limit int) *xmlGuard {
	return &xmlGuard{r: r, limit: limit, chunk: make([]byte, 32<<10)}
}

func (g *xmlGuard) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.mark) > 0 {
			c := copy(p[n:], g.mark)
			g.mark, n = g.mark[c:], n+c
			continue
		}
		if len(g.buf) == 0 {
			if n > 0 || g.err != nil {
				break
			}
			m, err := g.r.Read(g.chunk)
			g.buf, g.err = g.chunk[:m], err
			continue
		}
		if g.skip && !g.inTag {
			i := bytes.IndexByte(g.buf, '<')
			if i < 0 {
				g.buf = g.buf[:0]
				continue
			}
			g.buf = g.buf[i:]
		}
		if k := min(g.plain(g.buf), len(p)-n); k > 0 {
			copy(p[n:], g.buf[:k])
			n, g.run, g.buf = n+k, g.run+k, g.buf[k:]
			continue
		}
		b := g.buf[0]
		g.buf = g.buf[1:]
		keep, err := g.step(b)
		if err != nil {
			g.err, g.buf = err, nil
			break
		}
		if keep {
			p[n] = b
			n++
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, g.err
}

// plain returns how many bytes at the start of buf pass on without changing
// the guard's state but for the run's length: up to the next byte that
// step must see, and not past the limit.
func (g *xmlGuard) plain(buf []byte) int {
	var stops string
	switch {
	case g.inTag && g.run < 2:
		return 0 // step looks at the byte after '<'
	case g.inTag && g.noQuotes:
		stops = ">"
	case g.inTag && g.quote != 0:
		stops = string(g.quote)
	case g.inTag:
		stops = `>"'`
	default:
		stops = "<&;"
	}
	k := bytes.IndexAny(buf, stops)
	if k < 0 {
		k = len(buf)
	}
	return min(k, max(0, g.limit-g.run))
}

// step moves the guard past b and reports whether b is passed on.
func (g *xmlGuard) step(b byte) (bool, error) {
	if g.inTag {
		g.run++
		if g.run > g.limit {
			return false, &Error{Reason: fmt.Sprintf("xlsx 文件内容异常（有超过 %s 的标记），无法继续读取", Size(int64(g.limit)))}
		}
		switch {
		case g.run == 2 && (b == '!' || b == '?'):
			g.noQuotes = true
		case g.noQuotes:
			g.inTag = b != '>'
		case g.quote != 0:
			if b == g.quote {
				g.quote = 0
			}
		case b == '"' || b == '\'':
			g.quote = b
		case b == '>':
			g.inTag = false
		}
		if !g.inTag {
			g.run = 0
		}
		return true, nil
	}
	if b == '<' {
		g.inTag, g.noQuotes, g.quote, g.run, g.entity, g.skip = true, false, 0, 1, false, false
		return true, nil
	}
	if g.skip {
		return false, nil
	}
	g.run++
	if g.run > g.limit && ((!g.entity && utf8.RuneStart(b)) || g.run > g.limit+maxEntity) {
		g.skip = true
		g.mark = []byte("<" + cutMark + "/>")
		return false, nil
	}
	switch b {
	case '&':
		g.entity = true
	case ';':
		g.entity = false
	}
	return true, nil
}
