package sheet

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// sstInMemory is the largest shared-string part (unpacked) whose strings are
// kept in memory; the strings of a larger one go to a temporary file.
const sstInMemory = 32 << 20

// maxSharedStrings bounds the number of shared strings (4 bytes each are
// kept in memory): far more than a sheet of Excel's 1,048,576 rows needs.
const maxSharedStrings = 8 << 20

// sharedStrings is the shared-string table of a workbook: the strings one
// after another, in memory or in a temporary file, and where each ends.
type sharedStrings struct {
	mem  []byte
	file *os.File
	w    *bufio.Writer // writes file while the table is read
	ends []uint32
	long map[int]bool // strings cut at CellBytes
}

// loadSharedStrings reads the shared-string part f; a nil f is an empty table.
func loadSharedStrings(f *zip.File, lim Limits) (_ *sharedStrings, err error) {
	t := &sharedStrings{long: map[int]bool{}}
	if f == nil {
		return t, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, brokenXLSX(err)
	}
	defer rc.Close()
	if f.UncompressedSize64 <= sstInMemory {
		t.mem = make([]byte, 0, f.UncompressedSize64)
	} else {
		if t.file, err = os.CreateTemp("", "yanzhen-sst-*"); err != nil {
			return nil, fmt.Errorf("sheet: shared strings: %w", err)
		}
		defer func() {
			if err != nil {
				_ = t.close()
			}
		}()
		t.w = bufio.NewWriterSize(t.file, 64<<10)
	}
	if err := readStringItems(rc, lim.CellBytes, t.long, t.add); err != nil {
		return nil, err
	}
	if t.w != nil {
		if err := t.w.Flush(); err != nil {
			return nil, fmt.Errorf("sheet: shared strings: %w", err)
		}
	}
	return t, nil
}

// add appends the next string to the table.
func (t *sharedStrings) add(s []byte) error {
	if len(t.ends) >= maxSharedStrings {
		return &Error{Reason: fmt.Sprintf("xlsx 文件的共享字符串超过 %d 个，无法读取", maxSharedStrings)}
	}
	var end uint32
	if len(t.ends) > 0 {
		end = t.ends[len(t.ends)-1]
	}
	if t.w != nil {
		if _, err := t.w.Write(s); err != nil {
			return fmt.Errorf("sheet: shared strings: %w", err)
		}
	} else {
		t.mem = append(t.mem, s...)
	}
	t.ends = append(t.ends, end+uint32(len(s)))
	return nil
}

// readStringItems reads the <si> items of a shared-string part and hands each
// one's text, cut at limit bytes, to add; the numbers of cut items go to long.
func readStringItems(r io.Reader, limit int, long map[int]bool, add func([]byte) error) error {
	dec := xml.NewDecoder(newXMLGuard(r, limit))
	var text []byte
	var item, phonetic int
	inText, cut := false, false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return brokenXLSX(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				text, cut = text[:0], false
			case "rPh":
				phonetic++
			case "t":
				inText = phonetic == 0
			case cutMark:
				cut = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "rPh":
				phonetic = max(0, phonetic-1)
			case "t":
				inText = false
			case "si":
				if cut {
					long[item] = true
				}
				if err := add(unescapeOOXML(text)); err != nil {
					return err
				}
				item++
			}
		case xml.CharData:
			if inText {
				text = appendCapped(text, t, limit, &cut)
			}
		}
	}
}

// appendCapped appends b to dst up to limit bytes; more sets *cut.
func appendCapped(dst, b []byte, limit int, cut *bool) []byte {
	if room := limit - len(dst); len(b) > room {
		*cut = true
		b = b[:max(0, room)]
	}
	return append(dst, b...)
}

// get returns string i and whether it was cut.
func (t *sharedStrings) get(i int) (string, bool, error) {
	if i < 0 || i >= len(t.ends) {
		return "", false, errBadStringIndex
	}
	var start uint32
	if i > 0 {
		start = t.ends[i-1]
	}
	end := t.ends[i]
	if t.file == nil {
		return string(t.mem[start:end]), t.long[i], nil
	}
	b := make([]byte, end-start)
	if _, err := t.file.ReadAt(b, int64(start)); err != nil {
		return "", false, fmt.Errorf("sheet: shared strings: %w", err)
	}
	return string(b), t.long[i], nil
}

// errBadStringIndex is a cell naming a shared string the table does not have.
var errBadStringIndex = errors.New("no such shared string")

func (t *sharedStrings) close() error {
	if t == nil || t.file == nil {
		return nil
	}
	name := t.file.Name()
	return errors.Join(t.file.Close(), os.Remove(name))
}

// unescapeOOXML decodes the _xHHHH_ escapes OOXML writes for characters XML
// cannot hold (a carriage return is _x000D_; _x005F_ is an underscore).
func unescapeOOXML(b []byte) []byte {
	s := string(b)
	if !strings.Contains(s, "_x") {
		return b
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) {
			break
		}
		code, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil || s[i+6] != '_' {
			out.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		out.WriteString(s[:i])
		out.WriteRune(rune(code))
		s = s[i+7:]
	}
	out.WriteString(s)
	return []byte(out.String())
}
