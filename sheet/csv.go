package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// csvSource reads the records of a csv file, decoded to UTF-8. It is a parser
// of its own rather than encoding/csv, which reads a line whole however long
// it is, ends lines only at LF, and lets an unclosed quote run to the end of
// the file. Here a line ends at LF, CRLF or a lone CR (old Mac files); a
// record longer than RowBytes is refused and skipped to its line end; and a
// quoted cell still open at the end of the file or after RowBytes, or closed
// by a quote followed by other text after it has crossed a line, refuses its
// record, whose later lines are then read again as records of their own.
type csvSource struct {
	in    *bufio.Reader
	comma byte
	lim   Limits

	again   []byte // bytes to read before in: the later lines of a refused record
	raw     []byte // the current record as read, kept while it fits in RowBytes
	size    int    // bytes of the current record
	lineEnd int    // offset in raw just past the record's first line end; -1 before it

	cells []string
	cell  []byte
	col   int       // index of the current cell
	issue *rowIssue // why the current record is refused, once known
	err   error     // an error met while skipping a refused record, for the next call
}

// sniffBytes is how much of a csv file decides its encoding and delimiter.
const sniffBytes = 64 << 10

var (
	utf8BOM    = []byte("\xef\xbb\xbf")
	utf16LEBOM = []byte("\xff\xfe")
	utf16BEBOM = []byte("\xfe\xff")
)

// openCSV decodes UTF-16 after its BOM, GBK (read as GB18030, its superset)
// when the start of the file is not valid UTF-8, drops a UTF-8 BOM, refuses
// binary content, and takes a tab as the delimiter when the first line has
// tabs but no commas.
func openCSV(br *bufio.Reader, lim Limits) (*csvSource, error) {
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		var se *Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("sheet: read csv: %w", err)
	}
	var text io.Reader
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
	case bytes.HasPrefix(head, utf16LEBOM) || bytes.HasPrefix(head, utf16BEBOM):
		text = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.IndexByte(head, 0) >= 0:
		return nil, &Error{Reason: "文件不是文本格式的 csv（含有二进制内容）：请导入 xlsx 文件，或在 Excel 中另存为 csv 后再导入"}
	case !validUTF8Prefix(head, len(head) == sniffBytes):
		text = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	in := br
	if text != nil {
		in = bufio.NewReaderSize(text, 64<<10)
	}
	s := &csvSource{in: in, comma: ',', lim: lim}
	decoded, _ := in.Peek(sniffBytes)
	first := decoded
	if i := bytes.IndexAny(decoded, "\r\n"); i >= 0 {
		first = decoded[:i]
	}
	if !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, '\t') {
		s.comma = '\t'
	}
	return s, nil
}

// validUTF8Prefix reports whether b is valid UTF-8, forgiving a character cut
// at the end when b is only the start of the file.
func validUTF8Prefix(b []byte, truncated bool) bool {
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.RuneStart(b[len(b)-1]); i++ {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] >= utf8.RuneSelf {
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

func (s *csvSource) close() error { return nil }

// The states of the record parser.
type csvState int

const (
	cellStart   csvState = iota // at the start of a cell
	bare                        // in a cell without quotes
	quoted                      // in a quoted cell
	quoteInside                 // after a quote in a quoted cell: its end, or the first of two
)

// next reads one record: one row of the sheet, blank (one empty cell) for a
// blank line.
func (s *csvSource) next() ([]string, int, error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	s.raw, s.size, s.lineEnd = s.raw[:0], 0, -1
	s.cells, s.cell, s.col, s.issue = s.cells[:0], s.cell[:0], 0, nil
	state := cellStart
	for {
		b, err := s.readByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, 0, err
			}
			if s.size == 0 {
				return nil, 0, io.EOF
			}
			if state == quoted {
				return s.refuseQuoted(&rowIssue{col: -1, reason: "引号未闭合：本行未导入"})
			}
			return s.end()
		}
		if s.size > s.lim.RowBytes {
			if state == quoted || state == quoteInside {
				s.again = append([]byte{b}, s.again...) // read again with the later lines
				if s.issue == nil {
					s.issue = &rowIssue{col: -1, reason: fmt.Sprintf("引号未闭合或整行超过 %s：本行未导入", Size(int64(s.lim.RowBytes)))}
				}
				return s.refuseQuoted(s.issue)
			}
			if s.issue == nil {
				s.issue = &rowIssue{col: -1, reason: fmt.Sprintf("整行超过 %s：本行未导入", Size(int64(s.lim.RowBytes)))}
			}
			return s.refuseRest(b, s.issue)
		}
		switch state {
		case cellStart, bare:
			switch {
			case b == '"' && state == cellStart:
				state = quoted
			case b == s.comma:
				s.endCell()
				state = cellStart
			case b == '\r' || b == '\n':
				s.endLine(b)
				return s.end()
			default:
				s.add(b)
				state = bare
			}
		case quoted:
			switch b {
			case '"':
				state = quoteInside
			case '\r', '\n':
				s.endLine(b)
				s.add('\n')
			default:
				s.add(b)
			}
		case quoteInside:
			switch {
			case b == '"':
				s.add('"')
				state = quoted
			case b == s.comma:
				s.endCell()
				state = cellStart
			case b == '\r' || b == '\n':
				s.endLine(b)
				return s.end()
			case s.lineEnd >= 0:
				// A quote closed a cell that ran over a line end, and text
				// follows it: most likely the quote opened earlier never closed.
				return s.refuseQuoted(&rowIssue{col: -1, reason: "引号不成对：本行未导入"})
			default:
				// "5"寸 on one line: the quote is part of the text.
				s.add('"')
				s.add(b)
				state = bare
			}
		}
	}
}

// readByte returns the next byte of the record, keeping it in raw while the
// record fits in RowBytes.
func (s *csvSource) readByte() (byte, error) {
	var b byte
	if len(s.again) > 0 {
		b, s.again = s.again[0], s.again[1:]
	} else {
		var err error
		if b, err = s.in.ReadByte(); err != nil {
			return 0, err
		}
	}
	s.size++
	if s.size <= s.lim.RowBytes {
		s.raw = append(s.raw, b)
	}
	return b, nil
}

// endLine takes the LF of a CRLF after b and notes the record's first line end.
func (s *csvSource) endLine(b byte) {
	if b == '\r' && s.peek() == '\n' {
		_, _ = s.readByte()
	}
	if s.lineEnd < 0 {
		s.lineEnd = len(s.raw)
	}
}

// peek returns the next byte without reading it, or 0 at the end.
func (s *csvSource) peek() byte {
	if len(s.again) > 0 {
		return s.again[0]
	}
	if b, err := s.in.Peek(1); err == nil {
		return b[0]
	}
	return 0
}

// add appends b to the current cell, up to CellBytes; a longer cell refuses the row.
func (s *csvSource) add(b byte) {
	if len(s.cell) < s.lim.CellBytes {
		s.cell = append(s.cell, b)
		return
	}
	if s.issue == nil {
		s.issue = &rowIssue{col: s.col, reason: fmt.Sprintf("单元格超过 %s：本行未导入", Size(int64(s.lim.CellBytes)))}
	}
}

// endCell ends the current cell. Cells past the column limit are dropped,
// and refuse the row when they have content.
func (s *csvSource) endCell() {
	switch {
	case s.col < s.lim.Columns:
		s.cells = append(s.cells, string(s.cell))
	case s.issue == nil && len(bytes.TrimSpace(s.cell)) > 0:
		s.issue = &rowIssue{col: -1, reason: fmt.Sprintf("超过 %d 列：本行未导入", s.lim.Columns)}
	}
	s.col++
	s.cell = s.cell[:0]
}

// end ends the record: its cells, or the issue that refuses it.
func (s *csvSource) end() ([]string, int, error) {
	s.endCell()
	if s.issue != nil {
		return nil, 1, s.issue
	}
	return s.cells, 1, nil
}

// refuseQuoted refuses a record whose quoted cell did not end well, for
// issue, and reads its later lines again as records of their own.
func (s *csvSource) refuseQuoted(issue *rowIssue) ([]string, int, error) {
	if s.lineEnd < 0 {
		// One line without an end within RowBytes: skip the rest of it.
		return s.refuseRest(0, issue)
	}
	s.again = append(append([]byte(nil), s.raw[s.lineEnd:]...), s.again...)
	return nil, 1, issue
}

// refuseRest refuses the record for issue and skips to the end of its line;
// last is the byte just read (a line end is not read twice).
func (s *csvSource) refuseRest(last byte, issue *rowIssue) ([]string, int, error) {
	if last == '\r' || last == '\n' {
		s.endLine(last)
		return nil, 1, issue
	}
	for len(s.again) > 0 {
		b := s.again[0]
		s.again = s.again[1:]
		if b == '\r' || b == '\n' {
			s.endLine(b)
			return nil, 1, issue
		}
	}
	for {
		chunk, err := s.in.Peek(max(1, s.in.Buffered()))
		if i := bytes.IndexAny(chunk, "\r\n"); i >= 0 {
			end := chunk[i]
			_, _ = s.in.Discard(i + 1)
			s.endLine(end)
			return nil, 1, issue
		}
		_, _ = s.in.Discard(len(chunk))
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err // the row is refused first; the error ends the file after it
			}
			return nil, 1, issue
		}
	}
}
